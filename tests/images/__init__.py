"""Images built and run with podman (`make images`): see conftest.py."""
