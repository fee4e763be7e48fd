"""Every ORM model, imported in one place so Alembic and tests see the whole schema."""

from exchange.directory.models import Department, Node, Resource

__all__ = ["Department", "Node", "Resource"]
