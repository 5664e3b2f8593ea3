from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from blueprints.accounts.passwords import password_problem
from blueprints.web.choices import choices
from tenants.provisioning import slug_problem, slug_taken

LANGUAGES = [("fr", "Français"), ("en", "English")]


def _password_strength(form, field):
    names = tuple(getattr(form, n).data or "" for n in ("first_name", "last_name") if hasattr(form, n))
    email = form.email.data if hasattr(form, "email") else ""
    problem = password_problem(field.data or "", email=email or "", names=names)
    if problem:
        raise ValidationError(problem)


def _slug_free(form, field):
    problem = slug_problem(field.data or "")
    messages = {
        "length": _l("Between 3 and 40 characters."),
        "charset": _l("Lower-case letters, digits and single hyphens, starting with a letter."),
        "reserved": _l("This address is reserved. Choose another one."),
    }
    if problem:
        raise ValidationError(messages[problem])
    if slug_taken(field.data):
        raise ValidationError(_l("This address is already taken. Choose another one."))


class SignUpForm(FlaskForm):
    organization_name = StringField(_l("Organization name"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(
        _l("Address of your space"),
        description=_l("Your team will log in at this address. Lower-case letters, digits and hyphens."),
        validators=[DataRequired(), _slug_free],
    )
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    phone = TelField(
        _l("Phone"),
        validators=[
            DataRequired(),
            Regexp(r"^[0-9 +().-]{6,20}$", message=_l("Enter a valid phone number.")),
        ],
    )
    address = StringField(_l("Postal address"), validators=[DataRequired(), Length(max=300)])
    postal_code = StringField(_l("Postal code"), validators=[DataRequired(), Length(max=12)])
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=100)])
    billing_name = StringField(_l("Billing name"), validators=[DataRequired(), Length(max=200)])
    billing_address = TextAreaField(_l("Billing address"), validators=[DataRequired(), Length(max=500)])
    vat_number = StringField(
        _l("VAT number (optional)"),
        validators=[
            Optional(),
            Regexp(r"^[A-Z]{2}[0-9A-Z]{2,13}$", message=_l("A VAT number looks like FR12345678901.")),
        ],
    )
    password = PasswordField(
        _l("Password"),
        description=_l("At least 12 characters."),
        validators=[DataRequired(), _password_strength],
    )
    language = SelectField(_l("Language"), choices=choices(LANGUAGES), default="fr")


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Remember me on this device"), default=False)


class EmailForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), description=_l("At least 12 characters."), validators=[DataRequired()]
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(
        _l("New password"), description=_l("At least 12 characters."), validators=[DataRequired()]
    )


class UserInviteForm(FlaskForm):
    first_name = StringField(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(
        _l("Role"), choices=choices([("facilitator", _l("Facilitator")), ("admin", _l("Administrator"))])
    )
    language = SelectField(_l("Language"), choices=choices(LANGUAGES), default="fr")


class UserEditForm(FlaskForm):
    role = SelectField(
        _l("Role"), choices=choices([("facilitator", _l("Facilitator")), ("admin", _l("Administrator"))])
    )
    active = BooleanField(_l("Active"))


class ProfileForm(FlaskForm):
    language = SelectField(_l("Language"), choices=choices(LANGUAGES))
