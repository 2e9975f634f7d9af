"""National IDs and phones encrypted at rest (issue 19 point 4): the columns widen to hold
AES-GCM envelopes and get keyed blind-index columns beside them. The rows are encrypted by
0021_encrypt_existing, which also builds the blind indexes and their constraint."""

from django.db import migrations

import registry.crypto


class Migration(migrations.Migration):
    dependencies = [
        ("farmers", "0019_consent_versions"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="member",
            name="member_live_document_unique",
        ),
        migrations.RemoveIndex(
            model_name="member",
            name="member_phone_idx",
        ),
        migrations.AddField(
            model_name="member",
            name="document_index",
            field=registry.crypto.BlindIndexField(
                purpose="document", source="document_number", verbose_name="document blind index"
            ),
        ),
        migrations.AddField(
            model_name="member",
            name="phone_index",
            field=registry.crypto.BlindIndexField(
                purpose="phone", source="phone", verbose_name="phone blind index"
            ),
        ),
        migrations.AlterField(
            model_name="member",
            name="document_number",
            field=registry.crypto.EncryptedCharField(
                blank=True, max_length=100, purpose="document", verbose_name="document number"
            ),
        ),
        migrations.AlterField(
            model_name="member",
            name="phone",
            field=registry.crypto.EncryptedCharField(
                blank=True, max_length=100, purpose="phone", verbose_name="phone"
            ),
        ),
    ]
