"""The whole flow, one API folder at a time: load -> validate -> IR -> models + templates ->
format -> write. Nothing is written unless every API generated cleanly."""

from __future__ import annotations

from pathlib import Path

from generator.codegen.format import format_tree
from generator.codegen.models import ModelsJob, Workers
from generator.codegen.openapi import render_openapi
from generator.codegen.quickstart import Account, LocalEmulator, Records
from generator.codegen.render import header, render_package, render_pyproject
from generator.codegen.write import Plan, apply, plan
from generator.enrich import EnrichmentNote, enrich
from generator.model.ir import Api
from generator.spec.load import Document, load_api_dir
from generator.spec.validate import load_api


def api_dirs(specs: Path, names: list[str] | None = None) -> list[Path]:
    dirs = sorted(d for d in specs.iterdir() if d.is_dir() and any(d.glob("*.yaml")))
    if names:
        known = {d.name: d for d in dirs}
        missing = sorted(set(names) - set(known))
        if missing:
            raise ValueError(
                f"no spec folder {', '.join(missing)} under {specs} "
                f"(known: {', '.join(known) or 'none'})"
            )
        dirs = [known[n] for n in names]
    return dirs


def enriched_api(
    api_dir: Path, documents: list[Document] | None = None
) -> tuple[Api, list[EnrichmentNote]]:
    """The API with the fields its pulled schemas add (specs/<api>/schemas/), if any."""
    api = load_api(api_dir, documents)
    schemas = api_dir / "schemas"
    return enrich(api, schemas) if schemas.is_dir() else (api, [])


def local_emulator(api_dir: Path, api: Api) -> LocalEmulator | None:
    """The facts of the API's emulator a README's quick start gives (None: it names no
    account, so there is nothing to connect with)."""
    # Imported here: only this stage needs the emulator's data readers (not its web server).
    from emulator.data import read_data
    from emulator.settings import DEFAULT_PORT, Settings

    data = read_data(api_dir, api)
    if not data.credentials:
        return None
    accounts = tuple(Account(name, tuple(c.fields.items()), c.admin)
                     for name, c in data.credentials.items())
    records = []
    for name, definition in data.declarations.collections.items():
        rows = (data.seeds or {}).get(name) or []
        values = tuple(" / ".join(str(row["fields"][k]) for k in definition.key) for row in rows)
        if values:
            records.append(Records(name, tuple(definition.key), values))
    return LocalEmulator(f"http://127.0.0.1:{DEFAULT_PORT}",
                         Settings().token_route(api.auth.token_path), accounts, tuple(records),
                         tuple(data.known_ids.items()), tuple(data.refused_examples.items()))


def build(specs: Path, out: Path, names: list[str] | None = None) -> list[Plan]:
    """Generate every API in memory and return what writing it would change."""
    rendered: dict[str, str] = {}
    with Workers() as workers:
        loaded = []
        for api_dir in api_dirs(specs, names):
            documents = load_api_dir(api_dir)
            if any(doc.fresh for doc in documents):
                workers.warm_up()  # some models will likely be regenerated: get ready
            loaded.append((*enriched_api(api_dir, documents), api_dir))
        apis = [api for api, _, _ in loaded]
        jobs = []
        for api, findings, api_dir in loaded:
            pyproject = render_pyproject(api)
            # The models start first: what the cache lacks is generated in the workers while
            # the templates render.
            jobs.append((api, ModelsJob(api, header(api), pyproject, workers)))
            emulator = local_emulator(api_dir, api)
            for rel, text in render_package(api, findings, pyproject, emulator).items():
                rendered[f"{api.name}/{rel}"] = text
        # types.py comes formatted, chunk by chunk, from the models stage
        models = {f"{api.name}/{api.name}/types.py": job.result() for api, job in jobs}
    formatted = format_tree(rendered) | models
    return [
        plan(
            out / api.name,
            {
                rel.removeprefix(f"{api.name}/"): text
                for rel, text in formatted.items()
                if rel.startswith(f"{api.name}/")
            },
        )
        for api in apis
    ]


def export_openapi(specs: Path, out: Path, names: list[str] | None = None) -> list[str]:
    """Write only <out>/<api>/openapi.json (the same bytes `generate` writes there); return the
    paths that changed."""
    plans = [
        plan(out / api.name, {"openapi.json": render_openapi(api)}, prune=False)
        for api, _ in (enriched_api(d) for d in api_dirs(specs, names))
    ]
    for p in plans:
        apply(p)
    return [f"{p.root.name}/{rel}" for p in plans for rel in p.changed]


def generate(specs: Path, out: Path, names: list[str] | None = None) -> list[str]:
    """Write the generated trees; return the paths that changed (relative to `out`)."""
    plans = build(specs, out, names)
    for p in plans:
        apply(p)
    return [f"{p.root.name}/{rel}" for p in plans for rel in p.changed]
