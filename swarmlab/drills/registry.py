"""Every kind of fault a drill may name, by its name in the file."""

from typing import Dict, Type

from .faults import Availability, Demote, FailingUpdate, Fault, KillNode, Partition, Pause, Promote, Scale
from .impair import Impair

FAULTS: Dict[str, Type[Fault]] = {
    f.kind: f for f in (KillNode, Availability, Pause, Demote, Promote, Partition, Impair, Scale, FailingUpdate)
}
