"""What is particular to one API's emulator, read from beside its spec: `<api dir>/emulator/`
holds `emulator.yaml` (credentials, token spelling, path aliases, documented success forms),
`seeds.yaml` (the records a fresh emulator starts with, handed to the hooks' state) and
`hooks.py` (handlers named by operation wire name, for what data cannot say). See the
"Emulator data" section of specs/README.md."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from emulator.handler import Behaviour
from emulator.settings import Client
from generator.ir import Api, build_api
from generator.load import load_api_dir
from generator.validate import validate

DATA_DIR = "emulator"
_AUTH_FIELDS = {  # spec auth.kind -> (identity, secret) as the client's constructor names them
    "oauth2_client_credentials": ("client_id", "client_secret"),
    "oauth2_password": ("username", "password"),
}
_TOP_KEYS = {"token_type": str, "credentials": dict, "path_aliases": dict,
             "success_as_string": list}
_CREDENTIAL_EXTRAS = {"api_key": str, "mfa_totp_secret": str, "admin": bool}


class DataError(ValueError):
    """Bad emulator data: the message names the file and the key."""


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
    seeds: Any = None
    behaviour: Behaviour = field(default_factory=Behaviour)


def load_data(api_dir: Path, api: Api) -> EmulatorData:
    """The API's emulator data; an API without the folder gets defaults and the generic
    engine (no credentials: the caller's Settings must name some)."""
    folder = Path(api_dir) / DATA_DIR
    data = EmulatorData()
    main = folder / "emulator.yaml"
    if main.exists():
        _read_main(main, _yaml(main), api, data)
    seeds = folder / "seeds.yaml"
    if seeds.exists():
        data.seeds = _yaml(seeds)
    hooks = folder / "hooks.py"
    if hooks.exists():
        data.behaviour = _load_hooks(folder, api.name)
        for name in data.behaviour.handlers:
            _known(api, name, f"{hooks}: handler {name!r}")
    return data


def _yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataError(f"{path}: not valid YAML: {exc}") from None


def _known(api: Api, wire_name: str, where: str) -> None:
    if all(op.wire_name != wire_name for op in api.operations):
        raise DataError(f"{where}: no operation with wire name {wire_name!r} in the spec")


def _read_main(path: Path, doc: Any, api: Api, data: EmulatorData) -> None:
    if not isinstance(doc, dict):
        raise DataError(f"{path}: expected a mapping at the top")
    for key, value in doc.items():
        expected = _TOP_KEYS.get(key)
        if expected is None:
            raise DataError(f"{path}: {key}: unknown key (known: {', '.join(sorted(_TOP_KEYS))})")
        if not isinstance(value, expected):
            raise DataError(f"{path}: {key}: expected a {expected.__name__}")
    data.token_type = doc.get("token_type", data.token_type)
    for wire_name, paths in (doc.get("path_aliases") or {}).items():
        _known(api, wire_name, f"{path}: path_aliases.{wire_name}")
        if not isinstance(paths, list) or not all(isinstance(p, str) and p.startswith("/")
                                                  for p in paths):
            raise DataError(f"{path}: path_aliases.{wire_name}: expected a list of /paths")
        data.path_aliases[wire_name] = tuple(paths)
    for wire_name in doc.get("success_as_string") or []:
        _known(api, str(wire_name), f"{path}: success_as_string")
    data.success_as_string = frozenset(doc.get("success_as_string") or ())
    identity, secret = _AUTH_FIELDS.get(api.auth.kind, _AUTH_FIELDS["oauth2_client_credentials"])
    for name, entry in (doc.get("credentials") or {}).items():
        data.credentials[name] = _credential(f"{path}: credentials.{name}", entry, identity,
                                             secret)


def _credential(where: str, entry: Any, identity: str, secret: str) -> Credential:
    if not isinstance(entry, dict):
        raise DataError(f"{where}: expected a mapping")
    allowed = {identity: str, secret: str, **_CREDENTIAL_EXTRAS}
    for key, value in entry.items():
        if key not in allowed:
            raise DataError(f"{where}.{key}: unknown key (this API's auth takes "
                            f"{', '.join(allowed)})")
        if not isinstance(value, allowed[key]):
            raise DataError(f"{where}.{key}: expected a {allowed[key].__name__}")
    for key in (identity, secret):
        if key not in entry:
            raise DataError(f"{where}: {key} is required")
    client = Client(entry[identity], entry[secret], entry.get("api_key", ""),
                    is_admin=entry.get("admin", False),
                    mfa_totp_secret=entry.get("mfa_totp_secret"))
    fields = {k: v for k, v in entry.items() if k != "admin"}
    return Credential(client, fields, client.is_admin)


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


def load_api(api_dir: Path) -> Api:
    documents = load_api_dir(api_dir)
    validate(documents)
    return build_api(documents)


def credentials(api_dir: Path) -> dict[str, Credential]:
    """The accounts the API's emulator data names, without starting an emulator."""
    return load_data(Path(api_dir), load_api(Path(api_dir))).credentials
