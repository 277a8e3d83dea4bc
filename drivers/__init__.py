"""Hardware adapters behind the ports of :mod:`appliance.ports`, plus the shipped fakes."""
