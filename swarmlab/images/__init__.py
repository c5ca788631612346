"""The lab's images, built offline: a debootstrap base, then Dockerfiles FROM it."""

from .build import BASE_IMAGE, IMAGES, ImageBuilder, image_ref

__all__ = ["BASE_IMAGE", "IMAGES", "ImageBuilder", "image_ref"]
