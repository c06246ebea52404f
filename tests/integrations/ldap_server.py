"""A real OpenLDAP server for the LDAP reader's tests and the directory-sync benchmark.

``LdapServer(workdir)`` builds a private slapd in ``workdir``: a cn=config directory made with
``slapadd -n0`` (mdb backend; the core, cosine, nis and inetorgperson schemas of
/etc/ldap/schema plus ``AD_SCHEMA``, a small schema of our own with Active Directory's attribute
names), a throwaway CA and a server certificate for localhost/127.0.0.1 made with ``openssl``,
and serves ldap:// (StartTLS too) and ldaps:// on two free ports of 127.0.0.1. It never touches
the system slapd. Load a big tree with ``load()`` (slapadd, before ``start()``: 50,000 people
in a few seconds); change entries while it runs with ``add()``/``modify()``/``delete()``
(ldapmodify as the rootdn); ``set_size_limit()`` changes the server's size limit live.

``tree_ldif()`` writes a generated organisation: departments as nested OUs, people in them
with a manager each, employee numbers, mail, mobile; ids are predictable (``person_id(i)``,
``department_id(i)``), every entry stamped ``STAMP`` (modifyTimestamp), so an incremental pull
after a test's change returns only that change. ``flavour="ad"`` writes AD-style people
(objectClass user, objectGUID, userAccountControl, employeeID, whenChanged, department).

Needs Debian's slapd and ldap-utils (devtools/packages.py, SYSTEM_PACKAGES["test"])."""

from __future__ import annotations

import atexit
import base64
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

import psutil

SLAPD = "/usr/sbin/slapd"
SCHEMA_DIR = Path("/etc/ldap/schema")
SUFFIX = "dc=example,dc=org"
STAMP = "20240101000000Z"  # modifyTimestamp/whenChanged of every generated entry

# Active Directory's names on a private OID arc (2.25.<uuid>): enough of AD's user object for
# the reader's AD path (objectGUID ids, the disabled bit, employeeID, whenChanged, department).
_ARC = "2.25.178257094946441245601387429372514963"
AD_SCHEMA = f"""dn: cn=adlike,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: adlike
olcAttributeTypes: ( {_ARC}.1.1 NAME 'userAccountControl' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
olcAttributeTypes: ( {_ARC}.1.2 NAME 'objectGUID' EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
olcAttributeTypes: ( {_ARC}.1.3 NAME 'whenChanged' EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE )
olcAttributeTypes: ( {_ARC}.1.4 NAME 'employeeID' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcAttributeTypes: ( {_ARC}.1.5 NAME 'department' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcAttributeTypes: ( {_ARC}.1.6 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcObjectClasses: ( {_ARC}.2.1 NAME 'user' SUP top AUXILIARY MAY ( userAccountControl $ objectGUID $ whenChanged $ employeeID $ department $ sAMAccountName $ displayName $ mail $ mobile $ manager $ employeeNumber ) )
olcObjectClasses: ( {_ARC}.2.2 NAME 'computer' SUP top AUXILIARY )
olcObjectClasses: ( {_ARC}.2.3 NAME 'adObject' SUP top AUXILIARY MAY ( objectGUID $ whenChanged ) )
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def person_id(i: int, tree: int = 0) -> str:
    """The entryUUID (or AD objectGUID, as a string) of generated person ``i``."""
    return str(uuid.UUID(f"00000000-{tree:04x}-4000-8000-{i:012x}"))


def department_id(i: int, tree: int = 0) -> str:
    return str(uuid.UUID(f"00000000-{tree:04x}-4001-8000-{i:012x}"))


def ldif_attr(name: str, value: str | bytes) -> str:
    """One LDIF line, base64 when the value is bytes or not plain printable ASCII."""
    if isinstance(value, bytes):
        return f"{name}:: {base64.b64encode(value).decode()}\n"
    if (
        value.isascii()
        and value.isprintable()
        and value[:1] not in (" ", ":", "<")
        and value[-1:] != " "
    ):
        return f"{name}: {value}\n"
    return f"{name}:: {base64.b64encode(value.encode()).decode()}\n"


def dept_parent(i: int, roots: int, fanout: int = 10) -> int | None:
    """Departments 0..roots-1 are top-level; the others hang below earlier ones (a tree)."""
    return None if i < roots else (i - roots) // fanout


def dept_dn(i: int, base: str, roots: int) -> str:
    parts = []
    cur: int | None = i
    while cur is not None:
        parts.append(f"ou=Dept {cur:05d}")
        cur = dept_parent(cur, roots)
    return ",".join([*parts, base])


def person_dn(i: int, departments: int, base: str, roots: int) -> str:
    return f"uid=u{i:06d},{dept_dn(i % departments, base, roots)}"


def tree_ldif(
    out: TextIO,
    *,
    people: int,
    departments: int,
    base: str = f"ou=Staff,{SUFFIX}",
    tree: int = 0,
    flavour: str = "openldap",
    disabled_every: int = 0,
    operational: bool = True,
) -> None:
    """Write a generated organisation below ``base`` (which is written too, as an OU).

    Person i is in department i % departments; the first person of each department (i <
    departments) heads it and reports to the head of the parent department; the others report
    to their department's head. With ``disabled_every`` n, every nth person (i % n == n - 1)
    is a leaver: ``employeeType: left`` (openldap) or userAccountControl 514 (ad).
    ``operational=False`` leaves out entryUUID and the time stamps (for ``LdapServer.add``:
    the server makes them)."""
    roots = max(1, departments // 50)
    dns = [dept_dn(d, base, roots) for d in range(departments)]
    stamps = f"createTimestamp: {STAMP}\nmodifyTimestamp: {STAMP}\n" if operational else ""

    def ou(dn: str, ext: str) -> str:
        # All values of an attribute together: slapadd refuses a second objectClass group.
        text = f"dn: {dn}\nobjectClass: organizationalUnit\n"
        if flavour == "ad":
            guid = base64.b64encode(uuid.UUID(ext).bytes_le).decode()
            text += f"objectClass: adObject\nobjectGUID:: {guid}\nwhenChanged: {STAMP}\n"
        text += f"entryUUID: {ext}\n{stamps}" if operational else ""
        return text + f"ou: {dn.split(',')[0][3:]}\n\n"

    out.write(ou(base, str(uuid.UUID(f"00000000-{tree:04x}-4002-8000-000000000000"))))
    for d in range(departments):
        out.write(ou(dns[d], department_id(d, tree)))
    for i in range(people):
        d = i % departments
        head = d if i >= departments else dept_parent(d, roots)
        out.write(_person_ldif(i, dns[d], tree, flavour, disabled_every, stamps))
        if head is not None:
            out.write(f"manager: uid=u{head:06d},{dns[head % departments]}\n")
        out.write("\n")


def _person_ldif(i: int, dept: str, tree: int, flavour: str, every: int, stamps: str) -> str:
    pid = person_id(i, tree)
    left = every and i % every == every - 1
    text = (
        f"dn: uid=u{i:06d},{dept}\nuid: u{i:06d}\ncn: Person {i}\nsn: {i}\n"
        f"displayName: Person {i:06d}\nmail: u{i:06d}@example.org\nmobile: +1 555 {i:06d}\n"
        f"{stamps}"
    )
    if flavour == "ad":
        guid = base64.b64encode(uuid.UUID(pid).bytes_le).decode()
        return text + (
            "objectClass: organizationalPerson\nobjectClass: uidObject\nobjectClass: user\n"
            f"objectGUID:: {guid}\nemployeeID: E{i:06d}\nwhenChanged: {STAMP}\n"
            f"userAccountControl: {514 if left else 512}\nsAMAccountName: u{i:06d}\n"
            f"department: Dept {i % 7}\n"
        )
    text += f"objectClass: inetOrgPerson\nemployeeNumber: E{i:06d}\n"
    text += f"entryUUID: {pid}\n" if stamps else ""
    return text + ("employeeType: left\n" if left else "")


class LdapServer:
    """A private slapd; ``start()`` / ``stop()``, or ``with LdapServer(dir) as server``."""

    root_dn = f"cn=admin,{SUFFIX}"
    root_password = "root-secret"
    reader_dn = f"cn=reader,{SUFFIX}"
    reader_password = "Reader-s3cret!"
    config_dn = "cn=admin,cn=config"

    def __init__(self, workdir: Path, *, size_limit: int = 0) -> None:
        self.dir = Path(workdir)
        self.size_limit = size_limit
        self.port = free_port()
        self.ldaps_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.confdir = self.dir / "slapd.d"
        self.ca_file = self.dir / "ca.pem"
        self.other_ca_file = self.dir / "other-ca.pem"  # a CA that signed nothing here
        if not self.confdir.exists():
            self._configure()

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://localhost:{self.ldaps_port}"

    # --- building ------------------------------------------------------------------------------

    def _configure(self) -> None:
        (self.dir / "db").mkdir(parents=True, exist_ok=True)
        self.confdir.mkdir()
        self._certificates()
        config = self.dir / "config.ldif"
        config.write_text(self._config_ldif())
        _run(["slapadd", "-n0", "-F", str(self.confdir), "-l", str(config)])
        self.load(
            f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\n"
            f"o: Example\n\ndn: {self.reader_dn}\nobjectClass: organizationalRole\n"
            f"objectClass: simpleSecurityObject\ncn: reader\n"
            f"userPassword: {self.reader_password}\n\n"
        )

    def _certificates(self) -> None:
        d = self.dir
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for name in ("ca", "other-ca"):
            _run(["openssl", "req", "-x509", *ec, "-keyout", str(d / f"{name}.key"), "-out",
                  str(d / f"{name}.pem"), "-days", "3", "-subj", f"/CN=Test {name}"])  # fmt: skip
        _run(["openssl", "req", "-new", *ec, "-keyout", str(d / "server.key"), "-out",
              str(d / "server.csr"), "-subj", "/CN=localhost"])  # fmt: skip
        (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        _run(["openssl", "x509", "-req", "-in", str(d / "server.csr"), "-CA", str(self.ca_file),
              "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-days", "3", "-out",
              str(d / "server.pem"), "-extfile", str(d / "ext.cnf")])  # fmt: skip

    def _config_ldif(self) -> str:
        d = self.dir
        schemas = "".join(
            f"include: file://{SCHEMA_DIR}/{name}.ldif\n"
            for name in ("core", "cosine", "nis", "inetorgperson")
        )
        return f"""dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {d}/slapd.pid
olcArgsFile: {d}/slapd.args
olcLogLevel: none
olcTLSCACertificateFile: {self.ca_file}
olcTLSCertificateFile: {d}/server.pem
olcTLSCertificateKeyFile: {d}/server.key

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{schemas}
{AD_SCHEMA}
dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
{self._size_limit_line(self.size_limit)}olcAccess: {{0}}to dn.exact="" by * read
olcAccess: {{1}}to dn.base="cn=Subschema" by * read

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcRootDN: {self.config_dn}
olcRootPW: {self.root_password}

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcDbMaxSize: 4294967296
olcSuffix: {SUFFIX}
olcDbDirectory: {d}/db
olcRootDN: {self.root_dn}
olcRootPW: {self.root_password}
olcLastMod: TRUE
olcDbIndex: objectClass eq
olcDbIndex: entryUUID eq
olcDbIndex: uid eq
olcDbIndex: modifyTimestamp eq
olcAccess: {{0}}to attrs=userPassword by anonymous auth by * none
olcAccess: {{1}}to * by users read by * none
"""

    @staticmethod
    def _size_limit_line(limit: int) -> str:
        # The soft/hard limit caps one plain search (and one page); paged searches may go past
        # it as a whole (size.prtotal), as with AD's MaxPageSize.
        if not limit:
            return ""
        return f"olcSizeLimit: size.soft={limit} size.hard={limit} size.prtotal=unlimited\n"

    def load(self, ldif: str | Path) -> None:
        """Add entries with slapadd (the server must be stopped): fast, keeps entryUUID and
        modifyTimestamp as written."""
        assert self.proc is None, "slapadd needs the server stopped"
        path = Path(ldif) if isinstance(ldif, Path) else self.dir / "load.ldif"
        if not isinstance(ldif, Path):
            path.write_text(ldif)
        _run(["slapadd", "-q", "-F", str(self.confdir), "-b", SUFFIX, "-l", str(path)])

    # --- running -------------------------------------------------------------------------------

    def start(self) -> LdapServer:
        """Start slapd; it is up once *this* process listens on both ports (another process
        answering there, say the other test shard's slapd on a port picked by both at once,
        does not count: new ports are picked and slapd started again)."""
        for _attempt in range(5):
            if self._start_once():
                return self
            self.port, self.ldaps_port = free_port(), free_port()
        raise RuntimeError("slapd could not listen on free ports")

    def _start_once(self) -> bool:
        # 127.0.0.2 (the same ports): an address the certificate does not name.
        urls = " ".join(
            f"ldap://{ip}:{self.port}/ ldaps://{ip}:{self.ldaps_port}/"
            for ip in ("127.0.0.1", "127.0.0.2")
        )
        log = open(self.dir / "slapd.log", "ab")  # noqa: SIM115 (kept open for the process)
        self.proc = subprocess.Popen(
            [SLAPD, "-F", str(self.confdir), "-h", urls, "-d", "0"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        atexit.register(self.stop)  # no slapd left behind by an interrupted run
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                text = (self.dir / "slapd.log").read_text(errors="replace")[-2000:]
                if "Address already in use" in text or "bind" in text.lower():
                    self.proc = None
                    return False
                raise RuntimeError(f"slapd exited: {text}")
            if {self.port, self.ldaps_port} <= listening(self.proc.pid):
                return True
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("slapd did not start within 20 s")

    def stop(self) -> None:
        if self.proc is None:
            return
        atexit.unregister(self.stop)
        self.resume()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def pause(self) -> None:
        """SIGSTOP: the kernel still accepts connections, nothing answers (a hung server)."""
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGSTOP)
            deadline = time.monotonic() + 5
            while psutil.Process(self.proc.pid).status() != psutil.STATUS_STOPPED:
                assert time.monotonic() < deadline, "slapd did not stop"
                time.sleep(0.01)

    def resume(self) -> None:
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGCONT)

    def __enter__(self) -> LdapServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- changing entries while running --------------------------------------------------------

    def ldapmodify(self, ldif: str, *, add: bool = False, config: bool = False) -> None:
        bind = [self.config_dn if config else self.root_dn]
        cmd = ["ldapmodify", "-x", "-H", self.url, "-D", *bind, "-w", self.root_password]
        _run([*cmd, *(["-a"] if add else [])], stdin=ldif)

    def add(self, ldif: str) -> None:
        self.ldapmodify(ldif, add=True)

    def modify(self, dn: str, **changes: str | bytes | list[str] | None) -> None:
        """Replace attributes (None: delete the attribute)."""
        text = f"dn: {dn}\nchangetype: modify\n"
        for name, value in changes.items():
            if value is None:
                text += f"delete: {name}\n-\n"
                continue
            text += f"replace: {name}\n"
            for v in value if isinstance(value, list) else [value]:
                text += ldif_attr(name, v)
            text += "-\n"
        self.ldapmodify(text)

    def delete(self, *dns: str) -> None:
        self.ldapmodify("".join(f"dn: {dn}\nchangetype: delete\n\n" for dn in dns))

    def set_size_limit(self, limit: int) -> None:
        line = self._size_limit_line(limit) or "olcSizeLimit: unlimited\n"
        self.ldapmodify(
            f"dn: olcDatabase={{-1}}frontend,cn=config\nchangetype: modify\n"
            f"replace: olcSizeLimit\n{line}-\n",
            config=True,
        )

    def search(self, base: str, *attrs: str, filter: str = "(objectClass=*)") -> str:
        """ldapsearch as the rootdn; the LDIF text (for reading back generated ids)."""
        cmd = ["ldapsearch", "-x", "-LLL", "-o", "ldif-wrap=no", "-H", self.url]
        cmd += ["-D", self.root_dn, "-w", self.root_password, "-b", base, filter, *attrs]
        return _run(cmd)

    def entry_uuid(self, dn: str) -> str:
        out = self.search(dn, "entryUUID", filter="(objectClass=*)")
        return next(
            line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("entryUUID")
        )


def listening(pid: int) -> set[int]:
    """The TCP ports process ``pid`` listens on."""
    try:
        found = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.Error:
        return set()
    return {c.laddr.port for c in found if c.status == psutil.CONN_LISTEN}


def _run(cmd: Iterable[str], stdin: str | None = None) -> str:
    env = {**os.environ, "LDAPNOINIT": "1"}
    res = subprocess.run(list(cmd), input=stdin, capture_output=True, text=True, env=env)
    if res.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr[-2000:]}")
    return res.stdout
