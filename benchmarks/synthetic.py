"""Synthetic specs of any size, in our spec language, for the generation benchmarks.

An API of N operations has N/10 resources of ten operations each. Nine in ten are bulk imports
with e-Builder's nested body ({"options": {...}, "data": [{"header": {...}, "items": [...]}]})
through one shared envelope, each with its own header and item models; the tenth reads one
record by id. `edit_one_operation` makes the edit the benchmark regenerates after: one new
optional field on one operation's header model.

    python benchmarks/synthetic.py 300 /tmp/specs   # writes /tmp/specs/synth300/
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

OPS_PER_RESOURCE = 10

_API = {
    "api": {
        "name": "",
        "title": "",
        "client_class": "Synth",
        "version": "1.0.0",
        "description": "A synthetic bulk-import API for the generation benchmarks.",
        "base_path": "/api/v1",
        "environments": {},
        "auth": {"kind": "oauth2_password", "token_path": "/api/v1/Token"},
        "keys": "case_insensitive",
        "errors": {"model": "Outcome", "message_fields": ["errorDescription", "messages"]},
        "batch_result": {
            "success": "success",
            "messages": "messages",
            "records": "records",
            "record_errors": "errorMessages",
            "support_id": "supportId",
            "error_description": "errorDescription",
        },
    },
    "envelopes": {
        "options_header_items": {
            "description": "options + data[header, items[]], as e-Builder's imports.",
            "parameters": ["Header", "Item"],
            "root": "Request",
            "batch": {"records": "data", "keep": ["options"]},
            "models": {
                "Request": {
                    "fields": {
                        "options": {"type": "ImportOptions"},
                        "data": {"type": "list[{Row}]", "required": True},
                    }
                },
                "Row": {
                    "fields": {
                        "header": {"type": "{Header}", "required": True},
                        "items": {"type": "list[{Item}]"},
                    }
                },
            },
        }
    },
    "models": {
        "Outcome": {
            "fields": {
                "success": {"type": "boolean|string"},
                "messages": {"type": "list[string]"},
                "records": {"type": "list[any]"},
                "supportId": {"type": "string"},
                "errorDescription": {"type": "string"},
            }
        },
        "ImportOptions": {
            "fields": {
                "abortOnException": {"type": "boolean"},
                "projectIdentifier": {"type": "string", "enum": ["ProjectName", "ProjectNumber"]},
            }
        },
    },
}


def _header(n: int) -> dict[str, object]:
    return {
        "description": f"Record {n}.",
        "fields": {
            "projectIdentifier": {"type": "string", "required": True},
            f"record{n}Number": {"type": "string", "required": True, "max_length": 50},
            "description": {"type": "string", "description": "Free text."},
            "amount": {"type": "decimal"},
            "dueDate": {"type": "date"},
            "approved": {"type": "boolean"},
            "status": {"type": "string", "enum": ["Draft", "Approved", "Void"]},
            "customFields": {"type": "map[string]"},
        },
    }


def _item(n: int) -> dict[str, object]:
    return {
        "fields": {
            "itemNumber": {"type": "string", "required": True},
            "amount": {"type": "decimal", "required": True},
            "quantity": {"type": "integer"},
            "costCode": {"type": "string"},
            "fundingSources": {"type": "map[string]"},
        }
    }


def _resource(index: int, first_op: int, count: int) -> dict[str, object]:
    name = f"res{index:03d}"
    operations: dict[str, object] = {}
    models: dict[str, object] = {}
    for n in range(first_op, first_op + count):
        if n % OPS_PER_RESOURCE == OPS_PER_RESOURCE - 1:
            operations[f"get{n}"] = {
                "wire_name": f"Get{n}",
                "method": "GET",
                "path": f"/R{index}/Records{n}/{{RecordId}}",
                "summary": f"Read record {n}.",
                "params": {"RecordId": {"in": "path", "type": "integer"}},
                "response": f"Record{n}Header",
                "confidence": "documented",
                "source": "Synthetic.",
            }
        else:
            operations[f"import{n}"] = {
                "wire_name": f"Records{n}Import",
                "method": "POST",
                "path": f"/R{index}/Records{n}/Import",
                "summary": f"Create or update records of kind {n}.",
                "body": {
                    "envelope": "options_header_items",
                    "args": {"Header": f"Record{n}Header", "Item": f"Record{n}Item"},
                },
                "response": "Outcome",
                "idempotent": False,
                "confidence": "documented",
                "source": "Synthetic.",
            }
            models[f"Record{n}Item"] = _item(n)
        models[f"Record{n}Header"] = _header(n)
    return {
        "resource": name,
        "description": f"Synthetic resource {index}.",
        "operations": operations,
        "models": models,
    }


def write_spec(root: Path, operations: int) -> Path:
    """Write specs/synth<N>/ under `root` and return that folder."""
    name = f"synth{operations}"
    api_dir = root / name
    api_dir.mkdir(parents=True, exist_ok=True)
    api = {**_API, "api": {**_API["api"], "name": name, "title": f"Synthetic {operations}"}}
    _dump(api_dir / "api.yaml", api)
    for index, first in enumerate(range(0, operations, OPS_PER_RESOURCE)):
        count = min(OPS_PER_RESOURCE, operations - first)
        _dump(api_dir / f"res{index:03d}.yaml", _resource(index, first, count))
    return api_dir


def add_field(api_dir: Path, model: str, name: str) -> None:
    """Give `model` (in whichever spec file defines it) one more optional string field."""
    for path in sorted(api_dir.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if model in (doc.get("models") or {}):
            doc["models"][model]["fields"][name] = {"type": "string"}
            _dump(path, doc)
            return
    raise KeyError(f"no model {model} in {api_dir}")


def edit_one_operation(api_dir: Path, generation: int = 1) -> None:
    """Give operation 0's header model one more optional field (a new name each generation)."""
    add_field(api_dir, "Record0Header", f"added{generation}")


def _dump(path: Path, doc: object) -> None:
    path.write_text(yaml.safe_dump(doc, sort_keys=False, width=100), encoding="utf-8")


if __name__ == "__main__":
    print(write_spec(Path(sys.argv[2]), int(sys.argv[1])))
