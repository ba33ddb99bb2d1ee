"""The model-based proof of the ledger: the world it runs in, the reference model, the machine, `make proof`."""
