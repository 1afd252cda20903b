"""The Z-API façade: integrator partner API, instance routes and callbacks settings."""
