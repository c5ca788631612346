"""swarmlab: real multi-host Docker Swarm labs on demand."""

__version__ = "0.1.0"
