from django import forms
from django.contrib.auth import get_user_model

from o2c.teams.models import TargetMetric, WorkState


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class ReassignForm(forms.Form):
    user = forms.ModelChoiceField(queryset=get_user_model().objects.none())
    note = forms.CharField(required=False, max_length=500)

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        if team is not None:
            self.fields["user"].queryset = (
                get_user_model().objects.filter(memberships__team=team).order_by("username")
            )


class HandOffForm(forms.Form):
    team = forms.ModelChoiceField(queryset=None)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, teams=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams


class StateForm(forms.Form):
    state = forms.ChoiceField(choices=WorkState.choices)
    outcome = forms.CharField(required=False, max_length=500)


class TargetForm(forms.Form):
    metric = forms.ChoiceField(choices=TargetMetric.choices)
    user = forms.ModelChoiceField(queryset=None, required=False, empty_label="Whole team")
    period_start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    value = forms.DecimalField(max_digits=19, decimal_places=4)

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            get_user_model().objects.filter(memberships__team=team).order_by("username")
        )


class AbsenceForm(forms.Form):
    starts_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    deputy = forms.ModelChoiceField(queryset=None)
    note = forms.CharField(required=False, max_length=200)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deputy"].queryset = (
            get_user_model()
            .objects.filter(memberships__team__memberships__user=user)
            .exclude(pk=user.pk)
            .distinct()
            .order_by("username")
        )
