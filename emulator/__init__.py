"""A local fake of a spec'd API driven by its spec: routes, OAuth2 tokens,
API keys, MFA, rate limiting and stateful handlers, served by uvicorn on loopback."""

from emulator.app import create_app
from emulator.server import EmulatorServer
from emulator.settings import Client, Settings

__all__ = ["Client", "EmulatorServer", "Settings", "create_app"]
