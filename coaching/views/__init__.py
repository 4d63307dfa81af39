"""Web pages, one module per audience: managers, regional leads, trainers."""
