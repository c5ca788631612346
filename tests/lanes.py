"""How a run is split in lanes: pytest-xdist's workers, `-n 2 --dist loadgroup` (pyproject's
addopts). Each lane is a session of its own for the labs (tests/conftest.py gives it its
own prefix) and shares the engine's locks with the others (tests/sessions.py).

What runs where, and why:
- The modules that hold the machine whole are one unit of work, started first: the engine
  restart and the VM tests (each holds the engine alone: tests/sessions.py says why).
- Unit tests come next, each a unit of its own: the other lane takes them meanwhile (they
  hold no lock), then waits for the engine.
- Every other integration module is one unit: its tests share the module's lab, in the
  file's order. The longest go first (SECONDS: measured), so the lanes end together.
Without `--dist loadgroup` (`-n 0`, say) nothing changes: one session, the file order."""
from collections import defaultdict
from typing import Dict, List, Optional, Set, Tuple

import pytest

WHOLE_MACHINE = "vms-and-engine-restart"
_WHOLE_MARKS = {"vagrant", "vagrant_extra", "engine_alone"}


def unit_of(module: str, module_marks: Set[str]) -> Optional[str]:
    """The unit of work a test of this module belongs to; None: a unit by itself."""
    if module_marks & _WHOLE_MARKS:
        return WHOLE_MACHINE
    if "integration" in module_marks:
        return module
    return None


# each module's seconds in a CI run with lanes (2026-12-06); a module not listed: 60
SECONDS = {"test_lessons": 660, "test_real_stacks": 720, "test_import": 175, "test_drill": 408,
           "test_ssh_provider": 285,
           "test_lab_lifecycle": 162, "test_lab": 127, "test_compare": 122, "test_examples": 94,
           "test_ssh_registry": 83, "test_own_stack": 46, "test_room": 190, "test_room_engines": 120}


def rank(unit: Optional[str]) -> Tuple[int, float]:
    if unit == WHOLE_MACHINE:
        return 0, 0
    if unit is None:
        return 1, 0
    return 2, -SECONDS.get(unit.rsplit("/", 1)[-1].removesuffix(".py"), 60)


def assign(items: List[pytest.Item]) -> None:
    """Mark each test with its unit (xdist_group) and put the units in the order above."""
    def module(item):
        return item.nodeid.split("::")[0]

    marks: Dict[str, Set[str]] = defaultdict(set)
    for item in items:
        marks[module(item)] |= {m.name for m in item.iter_markers()}
    units = {}
    for item in items:
        unit = unit_of(module(item), marks[module(item)])
        if unit:
            item.add_marker(pytest.mark.xdist_group(unit))
        units[item.nodeid] = unit
    order = {item.nodeid: i for i, item in enumerate(items)}
    items.sort(key=lambda it: (*rank(units[it.nodeid]), order[it.nodeid]))
