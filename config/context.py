from scoring.access import role_of


def role(request) -> dict:
    """The signed-in user's role, for the navigation."""
    return {"role": role_of(request.user) if hasattr(request, "user") else None}
