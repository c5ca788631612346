"""What every check of `verify` reads: the lab's topology and kernels, and where captures go."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Tuple

from ..capabilities import Capabilities
from ..observe.topology import Topology


@dataclass
class VerifyContext:
    topo: Topology
    caps: Dict[str, Capabilities]
    capture_dir: Path
    matrix: Dict[Tuple[str, str], str] = field(default_factory=dict)

    @property
    def esp_everywhere(self) -> bool:
        return bool(self.caps) and all(c.esp for c in self.caps.values())
