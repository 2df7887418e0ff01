"""The Python API: loading inputs, proposing plans, scenarios and sweeps, the trade-off frontier, exports."""
