"""docker/Dockerfile and docker/compose.yaml, checked without a Docker engine.

There is no Docker on the machines that run these tests, so nothing is
built or started; instead:

  - compose.yaml parses (PyYAML), has firelake, PostgreSQL, an S3 server
    and the one-shot service that makes the bucket, health checks on every
    long-running service, named volumes for the WAL and PostgreSQL, and
    every file it names (build context, Dockerfile, bind mounts) exists;
  - firelake's command and environment are options firelake has (its own
    `serve --help`), the non-loopback listener carries access keys of a
    valid form, and the S3 endpoint, credentials and bucket agree with the
    S3 server's;
  - the Dockerfile's stages are Debian 12, the runtime runs as a non-root
    user it creates, every COPY source exists, the build runs the scripts
    the quick start (README, scripts/run.sh) runs, and the runtime installs
    the package of every shared library the firelake binary needs.
"""
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with the test image
    yaml = None

ROOT = os.path.abspath(harness.SRC)
DOCKER = os.path.join(ROOT, "docker")
COMPOSE = os.path.join(DOCKER, "compose.yaml")
DOCKERFILE = os.path.join(DOCKER, "Dockerfile")
BIN = os.path.abspath(harness.BIN)


def interpolate(value):
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default} and $$, resolved
    as a fresh checkout sees them: every variable unset."""
    if not isinstance(value, str):
        return value

    def sub(m):
        if m.group(0) == "$$":
            return "$"
        return m.group(3) if m.group(3) is not None else ""
    return re.sub(r"\$\$|\$\{(\w+)(:?-([^}]*))?\}", sub, value)


def env_of(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
    return {k: interpolate(str(v)) for k, v in env.items()}


def options_of(command):
    """--name=value / --name value pairs of a command list: {name: value}."""
    out, args, i = {}, [interpolate(a) for a in command], 0
    while i < len(args):
        a = args[i]
        if a.startswith("--"):
            if "=" in a:
                k, v = a[2:].split("=", 1)
            elif i + 1 < len(args) and not args[i + 1].startswith("--"):
                k, v = a[2:], args[i + 1]
                i += 1
            else:
                k, v = a[2:], ""
            out[k] = v
        i += 1
    return out


def dockerfile_stages(path):
    """[(image, name, [(INSTRUCTION, args text)])] of a Dockerfile."""
    with open(path) as f:
        text = f.read()
    logical, cur = [], ""
    for line in text.splitlines():
        s = line.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if cur and s.startswith("#"):
            continue  # comments inside a continued instruction
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        logical.append(cur + s)
        cur = ""
    if cur:
        logical.append(cur)
    stages = []
    for inst in logical:
        word, _, rest = inst.partition(" ")
        word, rest = word.upper(), rest.strip()
        if word == "FROM":
            parts = [p for p in rest.split() if not p.startswith("--")]
            name = parts[2] if len(parts) > 2 and parts[1].upper() == "AS" else None
            stages.append((parts[0], name, []))
        elif stages:
            stages[-1][2].append((word, rest))
        else:
            raise AssertionError("instruction before FROM: " + inst)
    return stages


def copy_args(rest):
    """(flags, sources, dest) of a COPY/ADD instruction."""
    rest = rest.strip()
    flags = {}
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        k, _, v = flag[2:].partition("=")
        flags[k] = v
        rest = rest.strip()
    args = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
    return flags, args[:-1], args[-1]


def quick_start_scripts():
    """The scripts the README's quick start runs, and the ones they run."""
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    m = re.search(r"^## Quick start.*?```sh\n(.*?)```", readme, re.S | re.M)
    assert m, "README has no quick start code block"
    first = re.findall(r"^(scripts/[\w.-]+)", m.group(1), re.M)
    assert first, "the quick start runs no script"
    runs = []
    with open(os.path.join(ROOT, first[0])) as f:
        for line in f:
            line = line.split("#", 1)[0]
            runs += re.findall(r"(?<![\w/])(scripts/[\w.-]+\.sh)\b", line)
    return first[0], runs


@unittest.skipIf(yaml is None, "PyYAML is not installed")
class Compose(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(COMPOSE) as f:
            cls.doc = yaml.safe_load(f)
        cls.services = cls.doc["services"]
        cls.fl = cls.services["firelake"]
        cls.fl_opts = options_of(cls.fl.get("command") or [])

    def s3_service(self):
        names = [n for n, s in self.services.items()
                 if "minio/minio" in str(s.get("image", "")) or "S3" in str(s.get("image", ""))]
        self.assertEqual(len(names), 1, "one S3 server service")
        return names[0]

    def test_services(self):
        self.assertEqual(set(self.services), {"firelake", "postgres", "minio", "minio-init"})
        self.assertTrue(self.services["postgres"]["image"].startswith("postgres:"))
        self.assertTrue(self.services["minio"]["image"].startswith("minio/minio"))
        self.assertTrue(self.services["minio-init"]["image"].startswith("minio/mc"))
        self.assertEqual(self.fl["command"][0], "serve")

    def test_healthchecks(self):
        for name, svc in self.services.items():
            if svc.get("restart") == "no":
                continue    # a one-shot: its exit status is its health
            hc = svc.get("healthcheck")
            self.assertTrue(hc and hc.get("test"), "%s has no health check" % name)
            self.assertNotEqual(hc["test"], ["NONE"], name)
        port = self.fl_opts["listen"].rsplit(":", 1)[1]
        self.assertIn("http://127.0.0.1:%s/health" % port, " ".join(self.fl["healthcheck"]["test"]))
        # Every dependency waits for something that can happen.
        for name, svc in self.services.items():
            deps = svc.get("depends_on") or {}
            for dep, cond in (deps.items() if isinstance(deps, dict) else []):
                self.assertIn(dep, self.services, name)
                c = cond.get("condition")
                if c == "service_healthy":
                    self.assertIn("healthcheck", self.services[dep], "%s waits on %s" % (name, dep))
                elif c == "service_completed_successfully":
                    self.assertEqual(self.services[dep].get("restart"), "no", dep)
        self.assertEqual(self.fl["depends_on"]["postgres"]["condition"], "service_healthy")
        self.assertEqual(self.fl["depends_on"]["minio-init"]["condition"],
                         "service_completed_successfully")
        self.assertEqual(self.services["minio-init"]["depends_on"]["minio"]["condition"],
                         "service_healthy")

    def test_volumes(self):
        declared = set(self.doc.get("volumes") or {})
        mounts = {}
        for name, svc in self.services.items():
            for v in svc.get("volumes") or []:
                src, _, rest = (v if isinstance(v, str) else "%s:%s" % (v["source"], v["target"])).partition(":")
                target = rest.split(":")[0]
                if not src.startswith((".", "/", "~")):
                    self.assertIn(src, declared, "%s mounts undeclared volume %s" % (name, src))
                mounts.setdefault(name, {})[target] = src
        # The WAL lives under --data-dir; PostgreSQL's data directory.
        data_dir = self.fl_opts["data-dir"]
        self.assertIn(data_dir, mounts["firelake"], "--data-dir (the WAL) is not a volume")
        self.assertIn(mounts["firelake"][data_dir], declared)
        self.assertIn("/var/lib/postgresql/data", mounts["postgres"])
        self.assertIn(mounts["postgres"]["/var/lib/postgresql/data"], declared)
        self.assertIn("/data", mounts["minio"])
        # The image's VOLUME and default --data-dir are the same place.
        stages = dockerfile_stages(DOCKERFILE)
        vols = [json.loads(a) for w, a in stages[-1][2] if w == "VOLUME"]
        self.assertIn([data_dir], vols)

    def test_named_files_exist(self):
        for name, svc in self.services.items():
            build = svc.get("build")
            if build:
                ctx = build if isinstance(build, str) else build.get("context", ".")
                ctx = os.path.normpath(os.path.join(DOCKER, ctx))
                self.assertTrue(os.path.isdir(ctx), ctx)
                df = os.path.join(ctx, build.get("dockerfile", "Dockerfile")
                                  if isinstance(build, dict) else "Dockerfile")
                self.assertTrue(os.path.isfile(df), df)
                self.assertEqual(os.path.realpath(df), os.path.realpath(DOCKERFILE))
                self.assertEqual(os.path.realpath(ctx), os.path.realpath(ROOT))
            for v in svc.get("volumes") or []:
                src = v.split(":")[0] if isinstance(v, str) else v.get("source", "")
                if src.startswith((".", "/")):
                    self.assertTrue(os.path.exists(os.path.join(DOCKER, src)), src)
            for f in ([svc["env_file"]] if isinstance(svc.get("env_file"), str)
                      else svc.get("env_file") or []):
                self.assertTrue(os.path.isfile(os.path.join(DOCKER, f)), f)
        for section in ("configs", "secrets"):
            for name, item in (self.doc.get(section) or {}).items():
                if "file" in item:
                    self.assertTrue(os.path.isfile(os.path.join(DOCKER, item["file"])), name)

    def test_ports_on_loopback(self):
        for name, svc in self.services.items():
            for p in svc.get("ports") or []:
                self.assertTrue(str(p).startswith("127.0.0.1:"), "%s publishes %s" % (name, p))
        port = self.fl_opts["listen"].rsplit(":", 1)[1]
        self.assertIn("127.0.0.1:%s:%s" % (port, port), self.fl["ports"])

    def test_firelake_keys(self):
        """A non-loopback --listen needs keys: a default that is obviously
        a trial one, of the form firelake accepts."""
        host = self.fl_opts["listen"].rsplit(":", 1)[0]
        self.assertEqual(host, "0.0.0.0")
        env = env_of(self.fl)
        self.assertNotIn("allow-anonymous", self.fl_opts)
        self.assertNotIn("FIRELAKE_ALLOW_ANONYMOUS", env)
        self.assertIn("FIRELAKE_ACCESS_KEYS", env, "no access keys for a non-loopback listener")
        raw = self.fl["environment"]["FIRELAKE_ACCESS_KEYS"]
        self.assertRegex(raw, r"^\$\{FIRELAKE_ACCESS_KEYS:-.+\}$", "overridable from the environment")
        keys = env["FIRELAKE_ACCESS_KEYS"]
        for pair in keys.split(","):
            kid, _, secret = pair.partition(":")
            self.assertRegex(kid, r"^[A-Za-z0-9_]{16,128}$")
            self.assertRegex(secret, r"^[\x21-\x7e]{1,128}$")
        self.assertIn("TRIAL", keys.upper())
        with open(COMPOSE) as f:
            self.assertIn("TRIAL DEFAULT", f.read())

    def test_firelake_s3(self):
        s3 = self.s3_service()
        env = env_of(self.fl)
        storage = self.fl_opts.get("storage") or env.get("FIRELAKE_STORAGE")
        self.assertEqual(storage, "s3://")
        endpoint = self.fl_opts.get("s3-endpoint") or env.get("FIRELAKE_S3_ENDPOINT")
        m = re.match(r"^http://([\w.-]+):(\d+)$", endpoint)
        self.assertTrue(m, endpoint)
        self.assertEqual(m.group(1), s3)
        self.assertIn(["server", "/data"], [self.services[s3]["command"][:2]])
        self.assertEqual(m.group(2), "9000")     # MinIO's S3 port
        minio = env_of(self.services[s3])
        self.assertEqual((env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]),
                         (minio["MINIO_ROOT_USER"], minio["MINIO_ROOT_PASSWORD"]))
        self.assertGreaterEqual(len(minio["MINIO_ROOT_PASSWORD"]), 8)   # MinIO's minimum
        init = self.services["minio-init"]
        script = interpolate(" ".join(init.get("entrypoint") or []) + " " +
                             " ".join(init.get("command") or []))
        self.assertIn("http://%s:%s" % (s3, m.group(2)), script)
        self.assertRegex(script, r"mc mb (--ignore-existing|-p) local/lake\b")
        # The bucket firelake writes to: the default stream's and Athena's.
        pg = env.get("FIRELAKE_PG") or self.fl_opts.get("pg")
        pm = re.match(r"^postgres(?:ql)?://(\w+):([^@]+)@postgres:5432/(\w+)$", pg)
        self.assertTrue(pm, pg)
        penv = env_of(self.services["postgres"])
        self.assertEqual(pm.groups(), (penv["POSTGRES_USER"], penv["POSTGRES_PASSWORD"],
                                       penv["POSTGRES_DB"]))

    @unittest.skipUnless(os.access(BIN, os.X_OK), "no firelake binary")
    def test_firelake_options_exist(self):
        out = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True, timeout=30)
        text = out.stdout + out.stderr
        known = set(re.findall(r"^\s+--([a-z0-9-]+) ", text, re.M))
        self.assertIn("listen", known)
        for k in self.fl_opts:
            self.assertIn(k, known, "compose passes --%s" % k)
        for k in env_of(self.fl):
            if k.startswith("FIRELAKE_"):
                self.assertIn("env " + k + ",", text, "compose sets %s" % k)


class Dockerfile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stages = dockerfile_stages(DOCKERFILE)
        cls.runtime = cls.stages[-1]

    def test_debian_12(self):
        self.assertGreaterEqual(len(self.stages), 2, "multi-stage")
        for image, name, _ in self.stages:
            self.assertRegex(image, r"^debian:12(-slim)?$", name)

    def test_non_root_user(self):
        users = [a.strip() for w, a in self.runtime[2] if w == "USER"]
        self.assertTrue(users, "the runtime stage sets no USER")
        user = users[-1].split(":")[0]
        self.assertNotIn(user, ("root", "0", ""))
        runs = " ".join(a for w, a in self.runtime[2] if w == "RUN")
        m = re.search(r"useradd\b[^;&]*?--uid (\d+)[^;&]*\b%s\b" % re.escape(user), runs)
        self.assertTrue(m, "the runtime stage does not create user %s" % user)
        self.assertNotEqual(m.group(1), "0")
        # Nothing after USER switches back to root.
        idx = max(i for i, (w, _) in enumerate(self.runtime[2]) if w == "USER")
        self.assertFalse([a for w, a in self.runtime[2][idx:] if w == "RUN" and "sudo" in a])

    def test_copy_sources_exist(self):
        names = {n for _, n, _ in self.stages if n}
        n = 0
        for _, _, insts in self.stages:
            for word, rest in insts:
                if word not in ("COPY", "ADD"):
                    continue
                flags, sources, _ = copy_args(rest)
                if "from" in flags:
                    self.assertIn(flags["from"], names)
                    continue
                for src in sources:
                    n += 1
                    self.assertTrue(glob.glob(os.path.join(ROOT, src)), "COPY %s: no such file" % src)
        self.assertGreater(n, 0)
        with open(os.path.join(DOCKER, "Dockerfile.dockerignore")) as f:
            ignored = {line.strip() for line in f if line.strip() and not line.startswith("#")}
        self.assertTrue({"build", "build-*", "var", ".git"} <= ignored, ignored)

    def test_runs_the_quick_start_scripts(self):
        first, scripts = quick_start_scripts()
        self.assertEqual(first, "scripts/run.sh")
        self.assertIn("scripts/install-deps.sh", scripts)
        self.assertIn("scripts/build.sh", scripts)
        build = self.stages[0][2]
        runs = [a for w, a in build if w == "RUN"]
        for script in scripts:
            self.assertTrue(os.access(os.path.join(ROOT, script), os.X_OK), script)
            self.assertTrue([r for r in runs if re.search(r"(^|[\s;&|=])%s\b" % re.escape(script), r)],
                            "the build stage does not run %s" % script)
        # install-deps.sh is copied before it runs (its own cached layer).
        order = [(w, a) for w, a in build if w in ("COPY", "RUN")]
        first_copy = next(i for i, (w, a) in enumerate(order) if w == "COPY")
        first_run = next(i for i, (w, a) in enumerate(order) if "scripts/install-deps.sh" in a and w == "RUN")
        self.assertLess(first_copy, first_run)
        # The binary build.sh makes is the one the runtime gets.
        with open(os.path.join(ROOT, "scripts/build.sh")) as f:
            self.assertIn("BUILD_DIR", f.read())
        m = re.search(r"BUILD_DIR=(\S+) scripts/build\.sh", " ".join(runs))
        self.assertTrue(m)
        self.assertIn(m.group(1).rstrip("/") + "/firelake", " ".join(runs))

    def test_runtime_entry(self):
        insts = self.runtime[2]
        entry = json.loads(next(a for w, a in insts if w == "ENTRYPOINT"))
        cmd = json.loads(next(a for w, a in insts if w == "CMD"))
        self.assertEqual(entry[-1], "firelake")
        self.assertEqual(cmd[0], "serve")
        opts = options_of(cmd)
        port = opts["listen"].rsplit(":", 1)[1]
        self.assertIn(port, [a.split("/")[0] for w, a in insts if w == "EXPOSE"])
        hc = next(a for w, a in insts if w == "HEALTHCHECK")
        self.assertIn("http://127.0.0.1:%s/health" % port, hc)
        # No key is baked into the image.
        self.assertFalse([a for w, a in insts if w == "ENV" and "ACCESS_KEYS" in a])
        self.assertNotIn("allow-anonymous", opts)

    @unittest.skipUnless(os.access(BIN, os.X_OK) and shutil.which("readelf") and shutil.which("dpkg"),
                         "needs the firelake binary, readelf and dpkg")
    def test_runtime_has_every_library(self):
        """This machine is Debian 12 too: the package of each library the
        binary links must be installed by the runtime stage."""
        out = subprocess.run(["readelf", "-d", BIN], capture_output=True, text=True, check=True).stdout
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)
        self.assertIn("libpq.so.5", needed)
        ldd = subprocess.run(["ldd", BIN], capture_output=True, text=True, check=True).stdout
        paths = dict(re.findall(r"^\s*(\S+) => (\S+)", ldd, re.M))
        runs = " ".join(a for w, a in self.runtime[2] if w == "RUN")
        installed = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", runs))
        for soname in needed:
            # the C library, and the sanitizers' runtimes of a sanitized
            # test build (scripts/test.sh's asan run), which no image has
            if soname.startswith(("libc.so", "ld-linux", "libm.so", "libasan", "libubsan",
                                  "liblsan")):
                continue    # libc6: in every Debian image
            path = os.path.realpath(paths[soname])
            candidates = {path, path.replace("/usr/lib/", "/lib/", 1), path.replace("/lib/", "/usr/lib/", 1)}
            pkg = None
            for c in candidates:
                r = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
                if r.returncode == 0:
                    pkg = r.stdout.split(":")[0].strip()
                    break
            self.assertTrue(pkg, "no package owns %s" % path)
            self.assertIn(pkg, installed, "the runtime stage lacks %s (for %s)" % (pkg, soname))


if __name__ == "__main__":
    unittest.main(verbosity=2)
