"""Kuntaflow's applications: what people and operators use (e-service, staff pages, CLI, local stack, demos)."""
