# Proactive chat invitations (docs/invitations.md). Depends only on the committed helpdesk
# migration that made Topic.timezone and business hours.

import datetime
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import helpdesk.models
import routing.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('helpdesk', '0005_business_hours_tickets'),
        ('routing', '0002_transfers'),
    ]

    operations = [
        migrations.CreateModel(
            name='InvitationRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='For supervisors; visitors never see it.', max_length=100)),
                ('is_active', models.BooleanField(default=True)),
                ('priority', models.PositiveSmallIntegerField(default=0, help_text='When several rules fit a page at once, the highest priority invites (equal priorities: the older rule).')),
                ('url_patterns', models.TextField(help_text='One path a line; * stands for anything (/shop/* is every shop page), a leading ! excludes (!/checkout/*). The query string is never matched. /* is every page.', validators=[routing.models.validate_url_patterns])),
                ('min_seconds_on_page', models.PositiveIntegerField(default=30, help_text='Seconds the visitor has spent on the page.', validators=[django.core.validators.MaxValueValidator(3600)])),
                ('min_pages_in_visit', models.PositiveSmallIntegerField(default=1, help_text='Pages seen in this visit, this one included (1: from the first page).', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(100)])),
                ('visitors', models.CharField(choices=[('any', 'Every visitor'), ('new', 'New visitors only'), ('returning', 'Returning visitors only')], default='any', max_length=16)),
                ('text', models.CharField(help_text="Plain text shown in the invitation, e.g. “Questions about sizes? We're here to help.”", max_length=200, validators=[routing.models.validate_plain_text])),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('active_days', models.CharField(default='0123456', help_text='Weekdays the rule invites on, Monday 0 to Sunday 6.', max_length=7, validators=[routing.models.validate_active_days])),
                ('active_from', models.TimeField(blank=True, help_text='Empty: from the start of the day.', null=True)),
                ('active_until', models.TimeField(blank=True, help_text='Empty or 00:00: until midnight.', null=True)),
                ('timezone', models.CharField(default=helpdesk.models.default_timezone, help_text='IANA time zone of the active hours, e.g. Europe/London.', max_length=64, validators=[helpdesk.models.validate_timezone])),
                ('cap_hours', models.PositiveSmallIntegerField(default=24, help_text='A visitor shown an invitation (by any rule) is not invited by this rule again for this many hours.', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(720)])),
                ('topic', models.ForeignKey(help_text='The topic the chat opens on when the visitor accepts.', on_delete=django.db.models.deletion.PROTECT, related_name='invitation_rules', to='helpdesk.topic')),
            ],
            options={
                'ordering': ['-priority', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='InvitationTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('shown', models.PositiveIntegerField(default=0)),
                ('accepted', models.PositiveIntegerField(default=0)),
                ('dismissed', models.PositiveIntegerField(default=0)),
                ('rule', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tallies', to='routing.invitationrule')),
            ],
        ),
        migrations.AddConstraint(
            model_name='invitationrule',
            constraint=models.CheckConstraint(condition=models.Q(('cap_hours__gte', 1)), name='invitationrule_cap_hours_gte_1'),
        ),
        migrations.AddConstraint(
            model_name='invitationrule',
            constraint=models.CheckConstraint(condition=models.Q(('min_pages_in_visit__gte', 1)), name='invitationrule_min_pages_gte_1'),
        ),
        migrations.AddConstraint(
            model_name='invitationrule',
            constraint=models.CheckConstraint(condition=models.Q(('active_from__isnull', True), ('active_until__isnull', True), ('active_until', datetime.time(0, 0)), ('active_from__lt', models.F('active_until')), _connector='OR'), name='invitationrule_active_from_before_until', violation_error_message='The start of the active hours must be before their end.'),
        ),
        migrations.AddIndex(
            model_name='invitationtally',
            index=models.Index(fields=['day'], name='invitationtally_day_idx'),
        ),
        migrations.AddConstraint(
            model_name='invitationtally',
            constraint=models.UniqueConstraint(fields=('rule', 'day'), name='invitationtally_rule_day'),
        ),
    ]
