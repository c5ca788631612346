"""Lab definitions: scenario files and their stack files."""

from .loader import load_scenario
from .model import NetworkSpec, NodeSpec, Scenario

__all__ = ["load_scenario", "Scenario", "NodeSpec", "NetworkSpec"]
