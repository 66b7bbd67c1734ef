"""The bundled Percenty-like back office: web app, SQLite data, fault injection, audit log and verifier.

Public API: `app.create_app`, `server.SimulatorServer`, `verify.verify`, `faults.Faults`; test helpers in
`testing`. See docs/design/simulator.md.
"""
