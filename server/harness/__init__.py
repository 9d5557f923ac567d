"""Stand-ins for the outside world: backend simulators and scripted clients."""
