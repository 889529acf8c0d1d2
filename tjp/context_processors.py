from tjp.access import programs_visible_to
from tjp.roles import Role, role_of


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "user_role": role_of(user),
        "Role": Role,
        "nav_programs": list(programs_visible_to(user).only("uuid", "name", "code")),
    }
