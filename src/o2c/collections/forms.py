from django import forms

from o2c.collections.models import ActivityKind, ActivityOutcome


class ContactForm(forms.Form):
    kind = forms.ChoiceField(choices=ActivityKind.choices, initial=ActivityKind.CALL)
    outcome = forms.ChoiceField(choices=ActivityOutcome.choices)
    note = forms.CharField(required=False, max_length=1000)


class PromiseForm(forms.Form):
    documents = forms.ModelMultipleChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple)
    amount = forms.CharField(max_length=30)
    promised_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    channel = forms.ChoiceField(choices=ActivityKind.choices, initial=ActivityKind.CALL)
    note = forms.CharField(required=False, max_length=1000)

    def __init__(self, *args, documents=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = documents
        self.fields["documents"].label_from_instance = lambda document: (
            f"{document.number} due {document.due_date:%Y-%m-%d}"
        )


class RunForm(forms.Form):
    entity = forms.ModelChoiceField(queryset=None, to_field_name="code")
    as_of = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, entities=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entity"].queryset = entities
