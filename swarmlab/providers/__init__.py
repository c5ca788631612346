"""Where hosts come from. Actions speak to the Provider interface only."""
from .base import Host, LabInfo, Provider


def get_provider(name: str, client=None) -> Provider:
    if name == "dind":
        from .dind import DindProvider

        return DindProvider(client)
    from ..errors import SwarmlabError

    raise SwarmlabError(f"unknown provider {name!r}", exit_code=2, hint="known providers: dind")


__all__ = ["Host", "LabInfo", "Provider", "get_provider"]
