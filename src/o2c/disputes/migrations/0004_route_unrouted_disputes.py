"""Route open disputes that have no team to their entity's fallback team.

Disputes loaded by a receivables import carry no team. The rule matches
`o2c.disputes.routing.fallback_team`: the first disputes team, else the first
collections team, preferring a team with an active member. Resolved and rejected
disputes keep no team, so the root-cause report does not credit them to a team
that never worked on them.
"""

from django.db import migrations

FALLBACK_FUNCTIONS = ["disputes", "collections"]


def route_unrouted(apps, schema_editor):
    Dispute = apps.get_model("disputes", "Dispute")
    Team = apps.get_model("teams", "Team")
    entity_ids = (
        Dispute.objects.filter(team__isnull=True, status="open")
        .values_list("entity_id", flat=True)
        .distinct()
    )
    for entity_id in list(entity_ids):
        teams = list(Team.objects.filter(entity_id=entity_id, function__in=FALLBACK_FUNCTIONS))
        if not teams:
            continue
        staffed = set(
            Team.objects.filter(pk__in=[team.pk for team in teams])
            .filter(memberships__user__is_active=True)
            .values_list("pk", flat=True)
        )
        teams.sort(
            key=lambda team: (
                team.pk not in staffed,
                FALLBACK_FUNCTIONS.index(team.function),
                team.name,
            )
        )
        Dispute.objects.filter(entity_id=entity_id, team__isnull=True, status="open").update(
            team=teams[0]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("disputes", "0003_cases_evidence_write_offs"),
        ("teams", "0002_work_management"),
    ]

    operations = [migrations.RunPython(route_unrouted, migrations.RunPython.noop)]
