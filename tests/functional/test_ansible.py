"""Ansible's openstack.cloud collection managing identity on the embedded cloud.

The collection bundled in PyPI's ``ansible`` (2.5) reads ``openstack.version``, which
openstacksdk removed in 4.15; Ansible users run its modules with an older SDK, so the test
does too: a cached virtualenv with ``openstacksdk<4.15`` is the modules' interpreter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import venv

import pytest

PLAYBOOK = textwrap.dedent("""\
    - hosts: localhost
      connection: local
      gather_facts: false
      vars:
        ansible_python_interpreter: "{{ module_python }}"
      module_defaults:
        group/openstack.cloud.openstack:
          cloud: stratus
      tasks:
        - openstack.cloud.auth:
        - openstack.cloud.project:
            name: ansible-project
            domain: default
            description: made by ansible
        - openstack.cloud.identity_user:
            name: ansible-user
            password: ansible-pw
            domain: default
            default_project: ansible-project
        - openstack.cloud.role_assignment:
            user: ansible-user
            project: ansible-project
            role: member
        - openstack.cloud.identity_user_info:
            name: ansible-user
          register: users
        - openstack.cloud.role_assignment:
            user: ansible-user
            project: ansible-project
            role: member
          register: again
        - ansible.builtin.copy:
            dest: "{{ out }}"
            content: "{{ {'users': users.users, 'again_changed': again.changed} | to_json }}"
        - openstack.cloud.identity_user:
            name: ansible-user
            state: absent
        - openstack.cloud.project:
            name: ansible-project
            state: absent
""")


MODULE_SDK = "openstacksdk>=4.0,<4.15"


def module_python() -> str:
    """A virtualenv's python with an SDK the bundled collection works with (built once, cached)."""
    cache = os.path.join(os.path.expanduser("~"), ".cache", "stratus-tests", "ansible-modules-venv")
    python = os.path.join(cache, "bin", "python")
    marker = os.path.join(cache, "requirements.txt")
    try:
        with open(marker) as f:
            current = f.read()
    except FileNotFoundError:
        current = None
    if current != MODULE_SDK:
        shutil.rmtree(cache, ignore_errors=True)
        venv.create(cache, with_pip=True)
        subprocess.run([python, "-m", "pip", "install", "-q", MODULE_SDK], check=True, timeout=600)
        with open(marker, "w") as f:
            f.write(MODULE_SDK)
    return python


@pytest.mark.slow
def test_openstack_cloud_collection_manages_identity(cloud, tmp_path):
    playbook = shutil.which("ansible-playbook") or os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    if not os.path.exists(playbook):
        pytest.skip("ansible is not installed (pip install ansible)")
    (tmp_path / "site.yml").write_text(PLAYBOOK)
    out = tmp_path / "out.json"
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=cloud.clouds_yaml, ANSIBLE_LOCALHOST_WARNING="False",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_NOCOLOR="1")
    result = subprocess.run([playbook, "site.yml", "-e", f"out={out}", "-e", f"module_python={module_python()}"],
                            cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    facts = json.loads(out.read_text())
    assert [u["name"] for u in facts["users"]] == ["ansible-user"]
    assert facts["users"][0]["default_project_id"]
    assert facts["again_changed"] is False  # idempotent, as against Keystone
    assert "failed=0" in result.stdout
