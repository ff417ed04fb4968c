"""A local fake of a spec'd API driven by its spec: routes, OAuth2 tokens,
API keys, MFA, rate limiting and stateful handlers, served by uvicorn on loopback.

Entry points: `emulator.server.EmulatorServer` (in a thread, for tests), `emulator.foreground`
(`apigen emulator`), `emulator.app.create_app`. Nothing is imported here, so that the generator
may read an API's emulator data (`emulator.data`) without loading the web server."""
