"""Issue 13 item 11: messages say the real problem, positioned at the offending key or value."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from mlops_gen.cli import main
from mlops_gen.spec.loader import LoadedSpec, load_text
from mlops_gen.spec.validate import validate_loaded

HEAD = """apiVersion: mlops-gen/v1
kind: ModelPipeline
model:
  name: churn-model
environments:
  - name: staging
"""


def problems(extra: str) -> list[str]:
    loaded = load_text(HEAD + extra, "spec.yaml")
    assert isinstance(loaded, LoadedSpec)
    result = validate_loaded(loaded)
    assert isinstance(result, list), "expected problems, the spec validated"
    return [str(problem) for problem in result]


def test_an_unknown_mapping_key_is_named_by_its_path_and_positioned_at_the_key() -> None:
    (message,) = problems("quality_gates:\n  metrics: {recal: {min: 0.5}}\n")
    assert message.startswith("spec.yaml:8:13: quality_gates.metrics.recal: "), message
    assert "[key]" not in message and "did you mean 'recall'?" in message


def test_a_path_with_dot_dot_or_a_space_says_so() -> None:
    found = problems("extensions:\n  before_training:\n    - {name: a, script: ../x.sh}\n"
                     "    - {name: b, script: scripts/my script.sh}\n    - {name: c, script: /abs/x.sh}\n")
    assert len(found) == 3, found
    dotdot, space, absolute = found
    assert "extensions.before_training[0].script: '../x.sh'" in dotdot and "'..'" in dotdot
    assert "contains a space" in space
    assert "is an absolute path" in absolute
    assert not any("is not a relative path" in message for message in found)


def test_a_url_where_a_secret_name_belongs_says_to_name_the_secret() -> None:
    for url in ("https://example.com/hook",
                "https://contoso.webhook.office.com/webhookb2/abc/IncomingWebhook/def/ghi",
                "https://example.com/hooks/" + "abcdefghijklmnopqrstuvwxyz0123456789" * 2):
        (message,) = problems(f"notifications:\n  channel: teams\n  webhook_secret: {url}\n")
        assert message.startswith("spec.yaml:9:19: notifications.webhook_secret: "), message
        assert "secret's value" in message and "name" in message
        assert "characters long" not in message


def test_schema_creates_the_output_folder_like_init(tmp_path: Path) -> None:
    target = tmp_path / "newdir" / "deeper" / "spec.schema.json"
    result = CliRunner().invoke(main, ["schema", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").startswith("{")


def test_a_field_error_does_not_hide_the_other_problems_of_its_environment() -> None:
    found = problems("  - name: production\n    target: aks\n    namespace: Bad NS\n"
                     "    instance_type: Standard_DS3_v2\n")
    paths = {message.split(": ")[1] for message in found}
    assert paths == {"environments[1].namespace", "environments[1].approval", "environments[1].cluster",
                     "environments[1].instance_type", "environments[1].gateway"}, found


def test_findings_that_depend_on_an_invalid_field_are_left_out() -> None:
    # An invalid cluster name must not also be reported as a missing cluster; an invalid target must not make
    # its settings look like another target's.
    found = problems("  - name: dev\n    target: aks\n    cluster: bad cluster\n    namespace: Bad NS\n"
                     "  - name: qa\n    target: akss\n    cluster: aks1\n")
    assert not any("needs the AKS cluster name" in message or "used only by target" in message
                   for message in found), found
    assert len(found) == 3, found


def test_empty_metric_gates_are_a_positioned_error_not_a_crash() -> None:
    (message,) = problems("quality_gates:\n  metrics: {}\n")
    assert message.startswith("spec.yaml:8:3: quality_gates.metrics: needs at least one metric gate"), message


def test_an_unknown_key_under_a_mapping_of_sections_gets_a_suggestion() -> None:
    """validate._model_at (now spellings.annotation_at) lost the model under a mapping such as metrics.<name>."""
    (message,) = problems("quality_gates:\n  metrics: {recall: {mni: 0.5}}\n")
    assert message.endswith("unknown key 'mni'; did you mean 'min'?"), message
