"""Pages of a paginated operation: `Page[T]` / `AsyncPage[T]`, and the offset bookkeeping they
share with the lazy `iter_*` iterators. What a page is (which query parameters, which list
field, the largest page) comes from the operation's `Pagination`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from ._spec import Operation, Pagination

T = TypeVar("T")
_NO_NEXT = "there is no next page; check has_next_page() before calling next_page()"


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where one page starts: the caller's query without the paging parameters, the offset and
    the page size."""

    spec: Pagination
    query: Mapping[str, Any]
    offset: int
    size: int

    @classmethod
    def first(cls, op: Operation, query: Mapping[str, Any], page_size: int | None) -> Cursor:
        """The first page's cursor; a bad `page_size` fails here, before anything is sent."""
        if op.pagination is None:
            raise ValueError(f"{op.python_name} is not paginated")
        spec = op.pagination
        size = spec.max_page if page_size is None else page_size
        if not 1 <= size <= spec.max_page:
            raise ValueError(f"page_size must be between 1 and {spec.max_page}")
        offset = int(query.get(spec.offset_param) or 0)
        rest = {k: v for k, v in query.items() if k not in (spec.limit_param, spec.offset_param)}
        return cls(spec, rest, offset, size)

    def params(self) -> dict[str, Any]:
        """The query of this page's request."""
        return {**self.query, self.spec.limit_param: self.size, self.spec.offset_param: self.offset}

    def items(self, response: Any) -> list[Any]:
        return list(getattr(response, self.spec.items_attr) or ())

    def after(self, count: int) -> Cursor | None:
        """The next page's cursor, or None when this page (of `count` items) was the last: a
        short page ends the list (a full last page costs one more, empty, request)."""
        return replace(self, offset=self.offset + self.size) if count >= self.size else None


class _PageBase(Generic[T]):
    def __init__(self, items: list[T], response: Any, following: Cursor | None) -> None:
        self.items = items
        self.response = response  # the page as the API sent it (its wrapper model)
        self._following = following

    def has_next_page(self) -> bool:
        """Whether another page may follow (False after a page shorter than the page size)."""
        return self._following is not None

    def __repr__(self) -> str:
        more = self.has_next_page()
        return f"{type(self).__name__}(items={len(self.items)}, has_next_page={more})"


class Page(_PageBase[T]):
    """One page: `.items`, `.has_next_page()`, `.next_page()`; iterating it yields every item
    from this page on, requesting the following pages only as they are needed."""

    def __init__(
        self,
        items: list[T],
        response: Any,
        following: Cursor | None,
        fetch: Callable[[Cursor], Page[T]],
    ) -> None:
        super().__init__(items, response, following)
        self._fetch = fetch

    def next_page(self) -> Page[T]:
        if self._following is None:
            raise RuntimeError(_NO_NEXT)
        return self._fetch(self._following)

    def iter_pages(self) -> Iterator[Page[T]]:
        """This page and every page after it."""
        page = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = page.next_page()

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.items


class AsyncPage(_PageBase[T]):
    """One page of an async client: `.items`, `.has_next_page()`, `await .next_page()`;
    `async for` over it yields every item from this page on."""

    def __init__(
        self,
        items: list[T],
        response: Any,
        following: Cursor | None,
        fetch: Callable[[Cursor], Awaitable[AsyncPage[T]]],
    ) -> None:
        super().__init__(items, response, following)
        self._fetch = fetch

    async def next_page(self) -> AsyncPage[T]:
        if self._following is None:
            raise RuntimeError(_NO_NEXT)
        return await self._fetch(self._following)

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        """This page and every page after it."""
        page = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = await page.next_page()

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.items:
                yield item
