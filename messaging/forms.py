"""Page forms only collect input: the rules (length, blank, who may be messaged) live in
`messaging.rules` and the services, whose `Invalid` errors the views attach to these forms."""

from django import forms

from messaging.rules import MAX_MESSAGE_LENGTH


class MessageForm(forms.Form):
    max_length = MAX_MESSAGE_LENGTH
    # No maxlength attribute (the template's counter warns past MAX_MESSAGE_LENGTH but
    # never stops typing or pasting); the service says what is wrong.
    message = forms.CharField(
        required=False,
        strip=False,
        label="Message",
        widget=forms.Textarea,
    )


class HandleForm(forms.Form):
    # One @handle for a direct message, up to seven (spaces or commas between) for a group.
    handle = forms.CharField(
        max_length=300,
        label="Message someone by @handle (up to 7 for a group)",
        widget=forms.TextInput(
            attrs={
                "placeholder": "@handle @another",
                "autocapitalize": "none",
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )
