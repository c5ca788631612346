"""The iptables chains swarmlab hooks into a node's INPUT and OUTPUT to drop traffic on
purpose (a drill's cut link or lossy egress, a lesson's blocked port): one chain per
purpose, filled by `drop_in` and removable by `unhook` at any time, whatever state an
interrupted run left it in. Every fault that drops packets builds its command here."""

from __future__ import annotations

from typing import Sequence

from .shell import sh

HOOKS = ("INPUT", "OUTPUT")


def drop_in(chain: str, rules: Sequence[Sequence], hooks: Sequence[str] = HOOKS) -> str:
    """A command line appending `rules` (each what follows `iptables -A CHAIN`) to `chain`,
    made if missing, and hooking the chain into each of `hooks` once. Run again, it adds
    rules to the same chain (a lesson's faults add up); after `unhook`, it holds only these."""
    steps = [sh("iptables", "-N", chain) + " 2>/dev/null || true"]
    steps += [sh("iptables", "-A", chain, *rule) for rule in rules]
    steps += [
        sh("iptables", "-C", hook, "-j", chain) + " 2>/dev/null || " + sh("iptables", "-I", hook, "-j", chain)
        for hook in hooks
    ]
    return " && ".join(f"{{ {s}; }}" for s in steps)


def drop_out(chain: str, rules: Sequence[Sequence]) -> str:
    """A command line deleting `rules` from `chain`, each as often as it is there (the
    chain and its hooks stay for the rules others put in it)."""
    return "; ".join(f"while {sh('iptables', '-D', chain, *rule)} 2>/dev/null; do :; done" for rule in rules) + "; true"


def unhook(chain: str) -> str:
    """A command line removing `chain` and its hooks (idempotent: each step may find nothing)."""
    c = sh(chain)
    return (
        f"while iptables -D INPUT -j {c} 2>/dev/null; do :; done; "
        f"while iptables -D OUTPUT -j {c} 2>/dev/null; do :; done; "
        f"iptables -F {c} 2>/dev/null; iptables -X {c} 2>/dev/null; true"
    )


def rules_of(chain: str) -> str:
    """A command line printing the chain's rules (`iptables -S`), nothing when it is absent."""
    return sh("iptables", "-S", chain) + " 2>/dev/null"
