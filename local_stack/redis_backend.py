"""The live-state Redis of the local stack: `REDIS_URL` when set, else a private `redis-server`
subprocess on a free port, else an embedded fakeredis server (with Lua) in this process.

`spawn_redis_cluster_tls` starts what the functions get deployed instead: a three-node Redis Cluster
that speaks only TLS and accepts only one ACL user, as ElastiCache Serverless does."""

from __future__ import annotations

import ipaddress
import json
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fakeredis import TcpFakeServer
from redis.backoff import NoBackoff
from redis.retry import Retry

CLUSTER_NODES = 3
CLUSTER_SLOTS = 16384
CACHE_USER = "speedrun-app"
"""The name of the deployed cache's one user (infra/constructs/cache.py)."""
CACHE_USER_ACCESS = "on ~* &* +@all"
"""The deployed user's access string (infra/constructs/cache.py), with the password added at start."""
CLUSTER_READY_TIMEOUT_S = 30.0
CERTIFICATE_LIFETIME = timedelta(days=30)
"""Made afresh at every start, so only as long as a local stack might stay up."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_until_ready(url: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            redis.Redis.from_url(url).ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@dataclass
class LocalRedis:
    url: str
    description: str
    cluster: bool = False
    """Cluster mode: clients must be cluster-aware (`REDIS_CLUSTER=1`)."""
    ca_file: Path | None = None
    """TLS only: the CA that signed the servers' certificate, for clients to trust (`SSL_CERT_FILE`)."""
    username: str | None = None
    password: str | None = None
    """The one ACL user clients must authenticate as (None: no AUTH needed)."""
    _processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _embedded: Any = None
    _private_dir: Path | None = None

    def stop(self) -> None:
        # All signalled before any is awaited: the nodes shut down together, none sees the others fail.
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            process.wait(timeout=10)
        if self._embedded is not None:
            self._embedded.shutdown()
            self._embedded.server_close()
        if self._private_dir is not None:
            shutil.rmtree(self._private_dir, ignore_errors=True)


def spawn_redis(*, port: int | None = None, data_dir: Path | None = None) -> LocalRedis:
    """A private Redis on `port` (a free one by default): a `redis-server` subprocess when the binary
    exists, else an embedded fakeredis server. With `data_dir`, redis-server keeps an append-only file
    there (fsync on every write), so it can be stopped and started again on the same port with its data."""
    port = port or free_port()
    url = f"redis://127.0.0.1:{port}/0"
    binary = shutil.which("redis-server")
    if binary is not None:
        persistence = _persistence(data_dir)
        process = subprocess.Popen(  # noqa: S603 (the redis-server found on PATH, fixed arguments)
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", *persistence, "--logfile", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_ready(url)
        kept = f", append-only file in {data_dir}" if data_dir else ", in memory"
        return LocalRedis(url, f"redis-server subprocess on port {port}{kept}", _processes=[process])
    server = TcpFakeServer(("127.0.0.1", port), server_type="redis")
    thread = threading.Thread(target=server.serve_forever, name="fakeredis", daemon=True)
    thread.start()
    wait_until_ready(url)
    return LocalRedis(
        url, f"embedded fakeredis on port {port} (no redis-server binary found; in memory)", _embedded=server
    )


def _persistence(data_dir: Path | None) -> list[str]:
    if data_dir is None:
        return ["--appendonly", "no"]
    return ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(data_dir)]


def start_redis(url_from_env: str | None, data_dir: Path | None) -> LocalRedis:
    """The local stack's Redis: `REDIS_URL` when set, else a private one (see `spawn_redis`)."""
    if url_from_env:
        wait_until_ready(url_from_env)
        return LocalRedis(url_from_env, f"external Redis at {url_from_env} (REDIS_URL)")
    return spawn_redis(data_dir=data_dir)


# --- the deployed shape: cluster mode, TLS only, one ACL user ---------------------------------------


def spawn_redis_cluster_tls(*, data_dir: Path | None = None) -> LocalRedis:
    """Three `redis-server` primaries on free ports of 127.0.0.1 forming one Redis Cluster (the slots
    split evenly), TLS only (no plain port; clients need no certificate of their own), and only the
    user `speedrun-app` with a random password (the default user is off), like the deployed cache.

    A throwaway CA and server certificate (SAN 127.0.0.1 and localhost) are made at every start, in
    a private temporary folder with the ACL file; `stop()` stops the nodes and removes that folder.
    Clients trust the CA through `SSL_CERT_FILE` (see `LocalRedis.ca_file`).

    With `data_dir`, the nodes keep their cluster configuration and append-only files there (fsync on
    every write) and the ports in `data_dir/cluster-ports.json`, so a later call with the same folder
    starts the same cluster again, with its data; without it, everything is in memory."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("a TLS Redis Cluster needs the redis-server binary (7.0 or later) on PATH")
    ports = _cluster_ports(data_dir)
    # mkdtemp makes it this user's alone: it holds the server's private key and the user's password.
    private_dir = Path(tempfile.mkdtemp(prefix="speedrun-redis-cluster-"))
    password = secrets.token_urlsafe(30)
    kept = f", cluster configuration and append-only files in {data_dir}" if data_dir else ", in memory"
    server = LocalRedis(
        url=f"rediss://127.0.0.1:{ports[0][0]}",
        description=f"{CLUSTER_NODES}-node TLS Redis Cluster (redis-server) on ports "
        f"{', '.join(str(port) for port, _ in ports)}, user {CACHE_USER}{kept}",
        cluster=True,
        ca_file=private_dir / "ca.crt",
        username=CACHE_USER,
        password=password,
        _private_dir=private_dir,
    )
    try:
        tls_args = _write_tls_files(private_dir)
        acl_file = private_dir / "users.acl"
        # Rules apply from a blank user: the default user ends up off, without password or commands.
        acl_file.write_text(f"user default off resetpass -@all\nuser {CACHE_USER} {CACHE_USER_ACCESS} >{password}\n")
        for index, (port, bus_port) in enumerate(ports):
            node_dir = (data_dir or private_dir) / f"node-{index}"
            node_dir.mkdir(parents=True, exist_ok=True)
            args = [
                *("--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1"),
                *tls_args,
                *("--tls-auth-clients", "no", "--tls-cluster", "yes"),
                *("--cluster-enabled", "yes", "--cluster-port", str(bus_port)),
                *("--cluster-config-file", str(node_dir / "nodes.conf")),
                *("--aclfile", str(acl_file), "--save", ""),
                *_persistence(node_dir if data_dir else None),
                *("--logfile", str(private_dir / f"node-{index}.log")),
            ]
            server._processes.append(
                subprocess.Popen(  # noqa: S603 (the redis-server found on PATH, arguments of our own)
                    [binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            )
        nodes = [node_client(server, port) for port, _ in ports]
        _form_cluster(server, nodes, ports)
        for node in nodes:
            node.close()
    except BaseException:
        server.stop()
        raise
    return server


def _cluster_ports(data_dir: Path | None) -> list[tuple[int, int]]:
    """(TLS port, cluster bus port) of each node: chosen free, or those of the cluster kept in `data_dir`
    (its nodes find each other at the addresses in their cluster configuration)."""
    # Chosen, not the default port + 10000, which can lie past 65535 for a free port.
    if data_dir is None:
        return [(free_port(), free_port()) for _ in range(CLUSTER_NODES)]
    kept = data_dir / "cluster-ports.json"
    if kept.exists():
        return [(int(port), int(bus_port)) for port, bus_port in json.loads(kept.read_text())]
    data_dir.mkdir(parents=True, exist_ok=True)
    ports = [(free_port(), free_port()) for _ in range(CLUSTER_NODES)]
    kept.write_text(json.dumps(ports))
    return ports


def _write_tls_files(folder: Path) -> list[str]:
    """A CA and a server certificate it signed (also the nodes' client certificate on the cluster bus);
    the redis-server arguments that use them."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "speedrun local cache CA")])
    ca_cert = (
        _certificate(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    server_cert = (
        _certificate(server_name, ca_name, server_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(key_cert_sign=False), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = folder / "ca.crt", folder / "server.crt", folder / "server.key"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ["--tls-cert-file", str(cert_file), "--tls-key-file", str(key_file), "--tls-ca-cert-file", str(ca_file)]


def _certificate(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, now: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + CERTIFICATE_LIFETIME)
        # Python 3.13's default context checks these (VERIFY_X509_STRICT).
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(*, key_cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not key_cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=key_cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def node_client(server: LocalRedis, port: int) -> redis.Redis:
    """One node on its own (not cluster-aware), as the cache user, trusting the CA explicitly."""
    return redis.Redis(
        host="127.0.0.1",
        port=port,
        ssl=True,
        ssl_ca_certs=str(server.ca_file),
        username=server.username,
        password=server.password,
        decode_responses=True,
        socket_timeout=5,
        # The start-up loops poll; redis-py's default retries would sleep seconds inside each poll.
        retry=Retry(NoBackoff(), 0),
    )


def _form_cluster(server: LocalRedis, nodes: list[redis.Redis], ports: list[tuple[int, int]]) -> None:
    """Slots split evenly over the nodes, the nodes introduced to each other, then wait until every
    node sees all slots served (`cluster_state:ok`). A cluster kept in a data folder is formed already."""
    deadline = time.monotonic() + CLUSTER_READY_TIMEOUT_S
    first = nodes[0]
    _wait_for_node(server, first, deadline)
    if int(first.cluster("INFO")["cluster_slots_assigned"]) == 0:
        for index, node in enumerate(nodes):
            _wait_for_node(server, node, deadline)
            first_slot = CLUSTER_SLOTS * index // len(nodes)
            last_slot = CLUSTER_SLOTS * (index + 1) // len(nodes) - 1
            node.execute_command("CLUSTER ADDSLOTSRANGE", first_slot, last_slot)
        for port, bus_port in ports[1:]:
            first.execute_command("CLUSTER MEET", "127.0.0.1", port, bus_port)
    for node in nodes:
        while True:
            _wait_for_node(server, node, deadline)
            info = node.cluster("INFO")
            if info["cluster_state"] == "ok" and int(info["cluster_known_nodes"]) == len(nodes):
                break
            _fail_if_late(server, deadline, f"cluster state {info['cluster_state']}")
            time.sleep(0.05)


def _wait_for_node(server: LocalRedis, node: redis.Redis, deadline: float) -> None:
    while True:
        try:
            node.ping()
            return
        except redis.ConnectionError as exc:
            _fail_if_late(server, deadline, f"{type(exc).__name__}: {exc}")
            time.sleep(0.05)


def _fail_if_late(server: LocalRedis, deadline: float, last_seen: str) -> None:
    """Raises, with the end of every node's log, once a node has exited or the deadline has passed."""
    if any(process.poll() is not None for process in server._processes) or time.monotonic() > deadline:
        assert server._private_dir is not None  # a cluster's logs are always in its private folder
        logs = sorted(server._private_dir.glob("node-*.log"))
        tails = "\n".join(f"--- {log.name}\n" + "\n".join(log.read_text().splitlines()[-15:]) for log in logs)
        raise RuntimeError(f"the TLS Redis Cluster did not come up ({last_seen}); node logs:\n{tails}")
