"""Choosing the entity a page shows from the `entity` parameter of a request."""

from django.contrib import messages


def choose_entity(request, entities):
    """Return the entity whose code the request names, else the first of `entities`.

    `entities` are those the person may see on the page. A code outside them, whether
    the entity exists or not, adds a warning that it is not available, so the page does
    not silently show another entity than the one requested.
    """
    entities = list(entities)
    code = (request.GET.get("entity") or request.POST.get("entity") or "").strip()
    chosen = next((entity for entity in entities if entity.code == code), None)
    if chosen is not None:
        return chosen
    if not entities:
        return None
    if code:
        messages.warning(
            request,
            f"Entity {code} is not available to you, so {entities[0].code} is shown.",
        )
    return entities[0]
