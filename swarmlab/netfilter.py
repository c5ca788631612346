"""The iptables chains swarmlab hooks into a node's INPUT and OUTPUT to drop traffic on
purpose (a drill's cut link, a lesson's blocked port): one chain per purpose, removable
at any time whatever state an interrupted run left it in."""

from __future__ import annotations

from .shell import sh


def unhook(chain: str) -> str:
    """A command line removing `chain` and its hooks (idempotent: each step may find nothing)."""
    c = sh(chain)
    return (
        f"while iptables -D INPUT -j {c} 2>/dev/null; do :; done; "
        f"while iptables -D OUTPUT -j {c} 2>/dev/null; do :; done; "
        f"iptables -F {c} 2>/dev/null; iptables -X {c} 2>/dev/null; true"
    )
