import io

import pytest
from django.core.management import call_command

from coaching.demo import create_demo_goals, create_demo_history, load_demo_modules


def build_chain(stores: int = 6, weeks: int = 26) -> None:
    """A small demo chain: scores, people, modules, goals, coaching history and this week's plans."""
    out = io.StringIO()
    call_command("demo", stores=stores, weeks=weeks, stdout=out)
    load_demo_modules()
    create_demo_goals()
    create_demo_history()
    call_command("generate_coaching", stdout=out)


@pytest.fixture
def chain(db):
    build_chain()
