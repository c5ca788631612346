"""Where hosts come from: a registry of providers by name (as containerlab registers its
node kinds). Actions speak to the Provider interface only; the CLI asks this registry."""

from __future__ import annotations

import importlib
from typing import Dict, Tuple, Type

from ..errors import EXIT_CONFIG, SwarmlabError
from .base import Host, LabInfo, Provider, Unsupported

# name -> (module, class), imported when asked for: the engine client and paramiko are
# slow to import, and a command needs one provider.
_REGISTRY: Dict[str, Tuple[str, str]] = {
    "dind": ("swarmlab.providers.dind", "DindProvider"),
    "vagrant": ("swarmlab.providers.vagrant", "VagrantProvider"),
    "ssh": ("swarmlab.providers.ssh", "SSHProvider"),
}
DEFAULT = "dind"
BY_FLAG = ("dind", "vagrant")  # chosen with --provider; ssh is chosen by --inventory FILE


def provider_class(name: str) -> Type[Provider]:
    if name not in _REGISTRY:
        raise SwarmlabError(
            f"unknown provider {name!r}", exit_code=EXIT_CONFIG, hint=f"known providers: {', '.join(_REGISTRY)}"
        )
    module, cls = _REGISTRY[name]
    return getattr(importlib.import_module(module), cls)


def get_provider(name: str, **options) -> Provider:
    """A provider by name; options go to its from_options (an inventory for ssh, ...)."""
    return provider_class(name).from_options(**options)


__all__ = ["Host", "LabInfo", "Provider", "Unsupported", "get_provider", "provider_class", "DEFAULT", "BY_FLAG"]
