from django.contrib.auth.models import Group

from tjp.roles import ROLE_PERMISSIONS, Role, sync_roles


def test_groups_hold_exactly_the_table(db):
    sync_roles()
    sync_roles()
    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role.value)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert held == perms, role
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)


def test_sync_removes_a_permission_added_by_hand(db):
    from django.contrib.auth.models import Permission

    sync_roles()
    judges = Group.objects.get(name=Role.JUDGE.value)
    judges.permissions.add(Permission.objects.get(codename="change_program"))
    sync_roles()
    assert not judges.permissions.filter(codename="change_program").exists()
