"""The interop run's own httpd: a scratch ServerRoot, a generated certificate,
this tree's mod_expect.so, cleartext HTTP/1.1 and TLS (h2 by ALPN) on
127.0.0.1, ports 9500-9599."""

import glob
import grp
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PORT_RANGE = range(9500, 9600)


def _apxs(query):
    apxs = shutil.which("apxs") or shutil.which("apxs2")
    if not apxs:
        return None
    out = subprocess.run([apxs, "-q", query], capture_output=True, text=True)
    return out.stdout.strip() or None


def _port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Server:
    def __init__(self, module):
        self.module = os.path.abspath(module)
        self.moddir = _apxs("LIBEXECDIR") or "/usr/lib/apache2/modules"
        self.httpd = "/usr/sbin/apache2"
        sbindir, target = _apxs("SBINDIR"), _apxs("TARGET")
        if sbindir and target and os.access(os.path.join(sbindir, target), os.X_OK):
            self.httpd = os.path.join(sbindir, target)
        self.proc = None
        self.dir = None
        self.port = self.tlsport = None

    # -- setup ---------------------------------------------------------------

    def _scratch(self):
        # As root the children run as nobody: everything they read or write
        # lives in a world-readable scratch directory, not in the tree.
        self.dir = tempfile.mkdtemp(prefix="mod_expect-interop.", dir="/tmp")
        os.chmod(self.dir, 0o755)
        for d in ("htdocs", "cgi-bin", "tls", "records"):
            os.mkdir(os.path.join(self.dir, d))
        os.chmod(os.path.join(self.dir, "records"), 0o1777)
        os.chmod(os.path.join(self.dir, "tls"), 0o700)
        cgi = os.path.join(self.dir, "cgi-bin", "upload.cgi")
        shutil.copyfile(os.path.join(HERE, "upload.cgi"), cgi)
        os.chmod(cgi, 0o755)
        os.chmod(os.path.join(self.dir, "cgi-bin"), 0o755)
        os.chmod(os.path.join(self.dir, "htdocs"), 0o755)

    def _certificate(self):
        """A throw-away CA and a server certificate for 127.0.0.1 signed by
        it; clients trust ca.pem (copied out of the key directory)."""
        tls = os.path.join(self.dir, "tls")

        def openssl(*args):
            subprocess.run(["openssl", *args], check=True, cwd=tls,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem",
                "-days", "2", "-subj", "/CN=mod_expect interop CA",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        openssl("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr",
                "-subj", "/CN=127.0.0.1")
        with open(os.path.join(tls, "server.ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\n"
                    "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem",
                "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                "-extfile", "server.ext", "-out", "server.pem")
        self.ca = os.path.join(self.dir, "ca.pem")
        shutil.copyfile(os.path.join(tls, "ca.pem"), self.ca)
        os.chmod(self.ca, 0o644)

    def _config(self):
        if os.getuid() == 0:
            user = "nobody"
            try:
                group = grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
            except KeyError:
                group = "nogroup"
        else:
            user = pwd.getpwuid(os.getuid()).pw_name
            group = grp.getgrgid(os.getgid()).gr_name
        with open(os.path.join(HERE, "httpd.conf.in")) as f:
            conf = f.read()
        for k, v in (("@DIR@", self.dir), ("@MODDIR@", self.moddir),
                     ("@MODULE@", self.module), ("@PORT@", str(self.port)),
                     ("@TLSPORT@", str(self.tlsport)), ("@USER@", user),
                     ("@GROUP@", group)):
            conf = conf.replace(k, v)
        self.conf = os.path.join(self.dir, "httpd.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        os.chmod(self.conf, 0o644)

    # -- start and stop ------------------------------------------------------

    def start(self):
        if not os.path.isfile(self.module):
            raise SystemExit(f"interop: {self.module} not found; build it with: make")
        self._scratch()
        self._certificate()
        free = [p for p in PORT_RANGE if _port_free(p)]
        # Another program may take a port between the check and httpd's bind:
        # then httpd exits at once and the next pair is tried.
        for i in range(0, len(free) - 1, 2):
            self.port, self.tlsport = free[i], free[i + 1]
            self._config()
            test = subprocess.run([self.httpd, "-t", "-d", self.dir, "-f", self.conf],
                                  capture_output=True, text=True)
            if test.returncode != 0:
                raise SystemExit("interop: the generated httpd configuration "
                                 "does not pass -t:\n" + test.stderr)
            self.proc = subprocess.Popen(
                [self.httpd, "-d", self.dir, "-f", self.conf, "-DFOREGROUND"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=open(os.path.join(self.dir, "httpd.stderr"), "w"))
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if _listening(self.port) and _listening(self.tlsport):
                    return
                time.sleep(0.1)
            if self.proc.poll() is None:
                self.stop(keep=True)
                raise SystemExit("interop: httpd did not start listening; see "
                                 + os.path.join(self.dir, "error.log"))
            self.proc = None
            log = self.log("error.log") + self.log("httpd.stderr")
            if "Address already in use" not in log:
                raise SystemExit("interop: httpd did not start:\n" + log)
        raise SystemExit("interop: no two free ports in 9500-9599")

    def stop(self, keep=False):
        """Stop the httpd this object started (by its PID) and remove the
        scratch directory unless asked to keep it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.dir and not keep:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    # -- what the server saw ------------------------------------------------

    def log(self, name):
        try:
            with open(os.path.join(self.dir, name), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def records(self, run):
        """What the upload handler recorded for this run, one dict per
        request it handled."""
        out = []
        for path in sorted(glob.glob(os.path.join(self.dir, "records", run + ".*.json"))):
            with open(path) as f:
                rec = json.load(f)
            if rec.get("run") == run:
                out.append(rec)
        return out

    def requests(self, run):
        """The requests httpd read for this run (forensic log "+" lines), each
        as (request line, {lower-case header name: value})."""
        out = []
        for line in self.log("forensic.log").splitlines():
            if not line.startswith("+"):
                continue
            fields = line.split("|")
            if len(fields) < 2 or not _names_run(fields[1], run):
                continue
            headers = {}
            for h in fields[2:]:
                name, _, value = h.partition(":")
                name = _unescape(name).lower()
                value = _unescape(value)
                headers[name] = headers[name] + ", " + value if name in headers else value
            out.append((fields[1], headers))
        return out


    def statuses(self, run):
        """The final statuses httpd logged for this run's requests, in order
        (access log: %h "%r" %H %>s ...)."""
        out = []
        for line in self.log("access.log").splitlines():
            m = re.match(r'\S+ "([^"]*)" \S+ (\d{3}) ', line)
            if m and _names_run(m.group(1), run):
                out.append(int(m.group(2)))
        return out


def _names_run(request_line, run):
    """Whether a request line names this run: ?run=ID, or the S3 key ID.bin."""
    parts = request_line.split(" ")
    target = parts[1] if len(parts) > 1 else ""
    path, _, query = target.partition("?")
    if path.endswith("/s3/" + run + ".bin"):
        return True
    return ("run=" + run) in query.split("&")


def _unescape(s):
    """mod_log_forensic writes '|', ':', '%' and unprintable bytes as %XX."""
    return re.sub(r"%([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), s)
