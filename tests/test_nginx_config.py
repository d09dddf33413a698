"""The nginx example of docs/deployment.md is accepted by Debian's nginx (`nginx -t`), with a
throw-away certificate in place of the real one. Skipped locally without nginx (install
Debian's nginx); CI installs it (.ci/run) and fails instead of skipping."""

import shutil
import subprocess
from pathlib import Path

from tests.conftest import require_system

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "kb.conf"


def test_nginx_accepts_the_deploy_site_config(tmp_path):
    # Debian puts it in /usr/sbin, which is not on every user's PATH.
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    nginx = nginx or require_system("nginx", "nginx")
    openssl = require_system("openssl", "openssl")
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=kb.example.be", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    site = SITE.read_text()
    assert "/etc/ssl/kb/fullchain.pem" in site and "/etc/ssl/kb/privkey.pem" in site
    site = site.replace("/etc/ssl/kb/fullchain.pem", str(cert))
    site = site.replace("/etc/ssl/kb/privkey.pem", str(key))
    (tmp_path / "kb.conf").write_text(site)
    # What Debian's /etc/nginx/nginx.conf provides around sites-enabled/, in a scratch prefix.
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\n"
        f"error_log {tmp_path}/error.log;\n"
        "events {}\n"
        "http {\n"
        f"    access_log {tmp_path}/access.log;\n"
        f"    client_body_temp_path {tmp_path}/body;\n"
        f"    proxy_temp_path {tmp_path}/proxy;\n"
        f"    fastcgi_temp_path {tmp_path}/fastcgi;\n"
        f"    uwsgi_temp_path {tmp_path}/uwsgi;\n"
        f"    scgi_temp_path {tmp_path}/scgi;\n"
        f"    include {tmp_path}/kb.conf;\n"
        "}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
