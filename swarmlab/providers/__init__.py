"""Where hosts come from. Actions speak to the Provider interface only."""
from .base import Host, LabInfo, Provider


def get_provider(name: str, client=None) -> Provider:
    if name == "dind":
        from .dind import DindProvider

        return DindProvider(client)
    if name == "vagrant":
        import os

        from .vagrant import VagrantProvider

        return VagrantProvider(vm_provider=os.environ.get("SWARMLAB_VAGRANT_PROVIDER", "libvirt"), client=client)
    from ..errors import SwarmlabError

    raise SwarmlabError(f"unknown provider {name!r}", exit_code=2, hint="known providers: dind, vagrant")


__all__ = ["Host", "LabInfo", "Provider", "get_provider"]
