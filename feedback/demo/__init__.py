"""Demo data for ``python manage.py load_demo``, written by the project itself.

``catalog`` (accounts and products), ``phrases`` and ``text`` (complaint
texts), ``story`` (the issues the demo plants and the fixes applied to them),
``plan`` (when and about what each ticket is) are plain Python; ``services``
writes them to the database.
"""
from .plan import DEFAULT_SEED, PlannedTicket, ticket_plan
from .story import DEFAULT_TICKETS, STORIES, STORIES_BY_KEY, StoryIssue
from .text import generate_ticket_text

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_TICKETS",
    "STORIES",
    "STORIES_BY_KEY",
    "PlannedTicket",
    "StoryIssue",
    "generate_ticket_text",
    "ticket_plan",
]
