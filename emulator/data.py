"""What is particular to one API's emulator, read from beside its spec: `<api dir>/emulator/`
holds `emulator.yaml` (credentials, token spelling, path aliases, documented success forms),
`behaviours.yaml` (record collections, lookups and declared behaviours by operation),
`seeds.yaml` (the records a fresh emulator starts with) and `hooks.py` (handlers named by
operation wire name, for what data cannot say). See "Emulator data" in specs/README.md."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from emulator.behaviour_data import Declarations, read_behaviours
from emulator.datafile import DataError, check_keys, expect, problem, read_folder
from emulator.handler import Behaviour
from emulator.settings import Client
from generator.model.ir import Api
from generator.spec.load import Document
from generator.spec.validate import load_api

__all__ = ["DataError", "EmulatorData", "credentials", "load_api", "load_data", "read_data"]

DATA_DIR = "emulator"
_AUTH_FIELDS = {  # spec auth.kind -> (identity, secret) as the client's constructor names them
    "oauth2_client_credentials": ("client_id", "client_secret"),
    "oauth2_password": ("username", "password"),
}
_TOP_KEYS = {"token_type": str, "credentials": dict, "path_aliases": dict,
             "success_as_string": list, "known_ids": dict, "refused_examples": dict}
_CREDENTIAL_EXTRAS = {"api_key": str, "mfa_totp_secret": str, "admin": bool}
_SEED_KEYS = ("fields", "id", "parent", "status", "items")


@dataclass(frozen=True)
class Credential:
    """One account: the engine's view (`client`) and the fields as the client takes them."""

    client: Client
    fields: dict[str, str]  # constructor argument -> value, in file order
    admin: bool


@dataclass
class EmulatorData:
    token_type: str = "Bearer"
    credentials: dict[str, Credential] = field(default_factory=dict)
    # wire name -> other paths (under base_path) the real server also answers on
    path_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # batch operations whose documented success example spells `success` as the string "true"
    success_as_string: frozenset[str] = frozenset()
    # path parameter wire name -> an id the hooks create the same way at every reset
    known_ids: dict[str, str] = field(default_factory=dict)
    # operation wire name -> why the README's example of it is answered with an error here
    refused_examples: dict[str, str] = field(default_factory=dict)
    seeds: Any = None
    declarations: Declarations = field(default_factory=Declarations)
    behaviour: Behaviour = field(default_factory=Behaviour)


def read_data(api_dir: Path, api: Api) -> EmulatorData:
    """The API's emulator data files (credentials, declarations, seeds), without importing
    its hooks: what the generator's README quick start reads. An API without the folder gets
    defaults."""
    folder = Path(api_dir) / DATA_DIR
    data = EmulatorData()
    documents = read_folder(folder) if folder.is_dir() else {}
    if "emulator.yaml" in documents:
        _read_main(documents["emulator.yaml"], api, data)
    if "behaviours.yaml" in documents:
        data.declarations = read_behaviours(documents["behaviours.yaml"], api)
    if "seeds.yaml" in documents:
        data.seeds = _read_seeds(documents["seeds.yaml"], data.declarations)
    return data


def load_data(api_dir: Path, api: Api) -> EmulatorData:
    """The API's emulator data and its hooks; an API without the folder gets defaults and the
    generic engine (no credentials: the caller's Settings must name some)."""
    data = read_data(api_dir, api)
    folder = Path(api_dir) / DATA_DIR
    hooks = folder / "hooks.py"
    if hooks.exists():
        data.behaviour = _load_hooks(folder, api.name)
        for name in data.behaviour.handlers:
            _known(api, name, f"{hooks}: handler {name!r}")
            if name in data.declarations.behaviours:
                raise DataError(f"{hooks}: handler {name!r}: behaviours.yaml declares this "
                                "operation's behaviour already (one of the two)")
    return data


def _known(api: Api, wire_name: str, where: str) -> None:
    if all(op.wire_name != wire_name for op in api.operations):
        raise DataError(f"{where}: no operation with wire name {wire_name!r} in the spec")


def _read_main(doc: Document, api: Api, data: EmulatorData) -> None:
    top = check_keys(doc, (), doc.data, list(_TOP_KEYS))
    for key, value in top.items():
        expect(doc, (key,), value, _TOP_KEYS[key])
    data.token_type = top.get("token_type", data.token_type)
    for wire_name, paths in (top.get("path_aliases") or {}).items():
        where = ("path_aliases", wire_name)
        if all(op.wire_name != wire_name for op in api.operations):
            raise problem(doc, where, "no operation with this wire name in the spec")
        if not isinstance(paths, list) or not all(isinstance(p, str) and p.startswith("/")
                                                  for p in paths):
            raise problem(doc, where, "expected a list of /paths")
        data.path_aliases[wire_name] = tuple(paths)
    for i, wire_name in enumerate(top.get("success_as_string") or []):
        if all(op.wire_name != str(wire_name) for op in api.operations):
            raise problem(doc, ("success_as_string",),
                          f"no operation with wire name {wire_name!r} in the spec",
                          at=("success_as_string", i))
    data.success_as_string = frozenset(top.get("success_as_string") or ())
    path_params = {p.wire_name for op in api.operations for p in op.params_in("path")}
    for name, value in (top.get("known_ids") or {}).items():
        if name not in path_params:
            raise problem(doc, ("known_ids", name), "no operation has this path parameter")
        data.known_ids[name] = expect(doc, ("known_ids", name), value, str)
    for wire_name, why in (top.get("refused_examples") or {}).items():
        if all(op.wire_name != wire_name for op in api.operations):
            raise problem(doc, ("refused_examples", wire_name),
                          "no operation with this wire name in the spec")
        data.refused_examples[wire_name] = expect(doc, ("refused_examples", wire_name), why, str)
    identity, secret = _AUTH_FIELDS.get(api.auth.kind, _AUTH_FIELDS["oauth2_client_credentials"])
    for name, entry in (top.get("credentials") or {}).items():
        data.credentials[name] = _credential(doc, ("credentials", name), entry, identity,
                                             secret)


def _credential(doc: Document, where: tuple, entry: Any, identity: str,
                secret: str) -> Credential:
    allowed = {identity: str, secret: str, **_CREDENTIAL_EXTRAS}
    mapping = expect(doc, where, entry, dict)
    for key in mapping:
        if key not in allowed:
            raise problem(doc, (*where, key), f"unknown key (this API's auth takes "
                          f"{', '.join(allowed)})")
    check_keys(doc, where, mapping, list(allowed), required=(identity, secret))
    for key, value in mapping.items():
        expect(doc, (*where, key), value, allowed[key])
    client = Client(mapping[identity], mapping[secret], mapping.get("api_key", ""),
                    is_admin=mapping.get("admin", False),
                    mfa_totp_secret=mapping.get("mfa_totp_secret"))
    fields = {k: v for k, v in mapping.items() if k != "admin"}
    return Credential(client, fields, client.is_admin)


def _read_seeds(doc: Document, declarations: Declarations) -> Any:
    """Seeds of the declared collections are checked here (record keys, parent paths); other
    top-level keys are the hooks' own seeds, handed over as they are."""
    seeds = expect(doc, (), doc.data, dict)
    for name, rows in seeds.items():
        definition = declarations.collections.get(name)
        if definition is None:
            continue
        depth, parent = 0, definition.parent
        while parent is not None:
            depth += len(declarations.collections[parent].key)
            parent = declarations.collections[parent].parent
        for i, row in enumerate(expect(doc, (name,), rows or [], list)):
            row = check_keys(doc, (name, i), row, _SEED_KEYS, required=("fields",))
            fields = expect(doc, (name, i, "fields"), row["fields"], dict)
            missing = [k for k in definition.key if k not in fields]
            if missing:
                raise problem(doc, (name, i, "fields"),
                              f"the key field(s) {', '.join(missing)} of {name} are required")
            path = row.get("parent", [])
            path = path if isinstance(path, list) else [path]
            if len(path) != depth:
                raise problem(doc, (name, i, "parent" if "parent" in row else "fields"),
                              f"expected {depth} parent key value(s), from the top collection "
                              "down")
            expect(doc, (name, i, "items"), row.get("items", {}), dict)
    return seeds


def _load_hooks(folder: Path, api_name: str) -> Behaviour:
    """Import `folder/hooks.py` as a module of a package made of `folder`, so that the hooks
    may import their siblings relatively; it must define `BEHAVIOUR`."""
    # One package per folder: a copied spec (tests) must not get the original's hooks.
    digest = hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:10]
    package = f"_emulator_data_{api_name}_{digest}"
    if package not in sys.modules:
        spec = importlib.util.spec_from_loader(package, loader=None, is_package=True)
        assert spec is not None
        module = importlib.util.module_from_spec(spec)
        module.__path__ = [str(folder)]
        sys.modules[package] = module
    hooks: ModuleType = importlib.import_module(f"{package}.hooks")
    behaviour = getattr(hooks, "BEHAVIOUR", None)
    if not isinstance(behaviour, Behaviour):
        raise DataError(f"{folder / 'hooks.py'}: BEHAVIOUR = emulator.handler.Behaviour(...) "
                        "is missing")
    return behaviour


def credentials(api_dir: Path) -> dict[str, Credential]:
    """The accounts the API's emulator data names, without starting an emulator."""
    return load_data(Path(api_dir), load_api(Path(api_dir))).credentials
