/**
 * Adversarial suite for policies/rules/endpoints.ts: every trick that got past the old regexes,
 * by class, each with many variants. Hosts are from documentation ranges and example domains,
 * except the foreign-storage names themselves.
 */
import { DEFAULT_CONFIG, resolveConfig } from "../../policies/rules/config";
import { endpointProblem, hostsIn, isInCluster } from "../../policies/rules/data-rules";
import { Endpoint, endpointOf, endpointsIn, isInClusterName, judgeEndpoint, MAX_ENDPOINTS, MAX_HOST_CHARS } from "../../policies/rules/endpoints";

/** What a text names, as `host` or `host port`. */
const found = (text: string): string[] => endpointsIn(text).map((e) => (e.port === undefined ? e.host : `${e.host} ${e.port}`));

/** How a single host value is judged with the default settings. */
const why = (text: string, config = DEFAULT_CONFIG): string => {
    const e = endpointOf(text);
    return e === undefined ? "no endpoint" : judgeEndpoint(e, config).why;
};

describe("endpointsIn", () => {
    describe("1. URLs of any scheme", () => {
        it.each([
            ["https://x.example.com/", ["x.example.com"]],
            ["http://api.example.no:8080/v1", ["api.example.no 8080"]],
            ["HTTPS://X.EXAMPLE.COM/", ["x.example.com"]],
            ["postgres://u:p@db.example.com:5432/d", ["db.example.com 5432"]],
            ["postgresql://db.example.com/app?sslmode=require", ["db.example.com"]],
            ["mongodb+srv://u:p@cluster0.example.com/db?retryWrites=true", ["cluster0.example.com"]],
            ["mongodb://h1.example.com:27017,h2.example.com:27017/db?replicaSet=rs0", ["h1.example.com 27017", "h2.example.com 27017"]],
            ["redis://:secret@cache.example.com:6379/0", ["cache.example.com 6379"]],
            ["rediss://cache.example.com", ["cache.example.com"]],
            ["amqp://guest:guest@rabbit.example.com:5672/vhost", ["rabbit.example.com 5672"]],
            ["amqps://mq.example.de/", ["mq.example.de"]],
            ["nats://nats.example.com:4222", ["nats.example.com 4222"]],
            ["nats://u:p@a.example.com:4222,nats://b.example.com:4222", ["a.example.com 4222", "b.example.com 4222"]],
            ["nats://nats.openfaas:4222", ["nats.openfaas 4222"]],
            ["postgres://db.example.corp:5432/x", ["db.example.corp 5432"]],
            ["jdbc:postgresql://db.example.com:5432/app", ["db.example.com 5432"]],
            ["jdbc:mysql://db.example.com/app?user=x", ["db.example.com"]],
            ["jdbc:sqlserver://sql.example.com:1433;databaseName=x;user=u", ["sql.example.com 1433"]],
            ["s3://bucket/key", ["s3.amazonaws.com"]],
            ["s3a://data-lake/raw/", ["s3.amazonaws.com"]],
            ["gs://bucket", ["storage.googleapis.com"]],
            ["gcs://bucket/object", ["storage.googleapis.com"]],
            ["s3:https://minio.example.no/bucket", ["minio.example.no"]],
            ["kafka://broker.example.com:9092", ["broker.example.com 9092"]],
            ["sftp://backup@files.example.com:2222/upload", ["files.example.com 2222"]],
            ["wss://events.example.com/socket", ["events.example.com"]],
            ["ftp://anonymous@ftp.example.com/", ["ftp.example.com"]],
            ["ldap://ldap.example.com:389/dc=example", ["ldap.example.com 389"]],
            ["smb://fileserver.example.com/share", ["fileserver.example.com"]],
            ["file://nas.example.com/share/x", ["nas.example.com"]],
            ["git+ssh://git@git.example.com/repo.git", ["git.example.com"]],
            ["https:evil.example.com/x", ["evil.example.com"]],
            ["https:\\\\evil.example.com\\x", ["evil.example.com"]],
            ["https:///evil.example.com", ["evil.example.com"]],
            ["http://[2001:db8::1]:8080/", ["2001:db8::1 8080"]],
            ["redis://[2001:db8::2]:6379", ["2001:db8::2 6379"]],
            ['{"u":"https:\\/\\/evil.example.com\\/x"}', ["evil.example.com"]],
            ["postgres:\\/\\/db.example.com\\/x", ["db.example.com"]],
        ])("%s", (text, hosts) => {
            expect(found(text)).toEqual(hosts);
        });
    });

    describe("2. percent-encoding, IDN, full-width and ideographic dots, case", () => {
        it.each([
            ["http://s3%2eamazonaws%2ecom/", ["s3.amazonaws.com"]],
            ["s3%2eamazonaws%2ecom", ["s3.amazonaws.com"]],
            ["S3%2EAMAZONAWS%2ECOM:443", ["s3.amazonaws.com 443"]],
            ["postgres://db%2Eexample%2Ecom:5432/x", ["db.example.com 5432"]],
            ["redis://cache%2eexample%2ecom", ["cache.example.com"]],
            ["https://e%76il.example.com/", ["evil.example.com"]],
            ["http://%EF%BD%85xample.com/", ["example.com"]],
            ["https://s3\u3002amazonaws\u3002com/", ["s3.amazonaws.com"]],
            ["s3\u3002amazonaws\u3002com", ["s3.amazonaws.com"]],
            ["s3\uff0eamazonaws\uff0ecom", ["s3.amazonaws.com"]],
            ["s3\uff61amazonaws\uff61com", ["s3.amazonaws.com"]],
            ["\uff53\uff13\uff0e\uff41\uff4d\uff41\uff5a\uff4f\uff4e\uff41\uff57\uff53\uff0e\uff43\uff4f\uff4d", ["s3.amazonaws.com"]],
            ["https://\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25\uff0e\uff23\uff2f\uff2d/", ["example.com"]],
            ["amqp://\uff4d\uff51\uff0e\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d", ["mq.example.com"]],
            ["https://b\u00fccher.example.com/", ["xn--bcher-kva.example.com"]],
            ["https://xn--bcher-kva.example.com/", ["xn--bcher-kva.example.com"]],
            ["b\u00fccher.no", ["xn--bcher-kva.no"]],
            ["\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444", ["xn--e1afmkfd.xn--p1ai"]],
            ["https://S3.AmazonAWS.COM/", ["s3.amazonaws.com"]],
            ["DB.EXAMPLE.COM:5432", ["db.example.com 5432"]],
            ["https://s3.amazon\u00adaws.com/", ["s3.amazonaws.com"]],
            ["s3.amazon\u200baws.com", ["s3.amazonaws.com"]],
            // Escapes of JSON and YAML strings and of query strings are undone once.
            ['{"bucket":"s3\\u002eamazonaws\\u002ecom"}', ["s3.amazonaws.com"]],
            ['{"url":"https://s3\\u002eamazonaws\\u002ecom/x"}', ["s3", "s3.amazonaws.com"]],
            ['host: "s3\\x2eamazonaws\\x2ecom"', ["s3.amazonaws.com"]],
            ['{"hosts":"a.example.no\\nevil.example.com"}', ["a.example.no", "evil.example.com"]],
            ["https://sso.example.no/login?next=https%3A%2F%2Fevil.example.com%2Fx", ["sso.example.no", "evil.example.com"]],
            ["https%3A%2F%2Fevil.example.com", ["evil.example.com"]],
            ["https:%2F%2Fevil.example.com", ["evil.example.com"]],
            ["s3%E3%80%82amazonaws%E3%80%82com", ["s3.amazonaws.com"]],
        ])("%j", (text, hosts) => {
            expect(found(text)).toEqual(hosts);
        });
    });

    describe("3. IPv4 in decimal, hex, octal and short forms", () => {
        it.each([
            ["http://3232235777/", ["192.168.1.1"]],
            ["http://0xC0A80101/", ["192.168.1.1"]],
            ["http://0300.0250.1.1/", ["192.168.1.1"]],
            ["http://192.168.257", ["192.168.1.1"]],
            ["http://0xc0.0xa8.0x01.0x01/", ["192.168.1.1"]],
            ["http://0x7f000001/", ["127.0.0.1"]],
            ["http://0x7f.1/", ["127.0.0.1"]],
            ["http://3405803786/", ["203.0.113.10"]],
            ["http://0xCB00710A/", ["203.0.113.10"]],
            ["http://0313.0.0161.012/", ["203.0.113.10"]],
            ["http://203.28938/", ["203.0.113.10"]],
            ["http://1.2.3/", ["1.2.0.3"]],
            ["postgres://3232235777:5432/db", ["192.168.1.1 5432"]],
            ["redis://0300.0250.1.1:6379", ["192.168.1.1 6379"]],
            ["http://0xC6336407:8080/", ["198.51.100.7 8080"]],
            ["0x08080808:443", ["8.8.8.8 443"]],
            ["0xC6336407:443", ["198.51.100.7 443"]],
            ["3325256711:443", ["198.51.100.7 443"]],
            ["0306.063.0144.07:443", ["198.51.100.7 443"]],
            ["198.51.25607:443", ["198.51.100.7 443"]],
            ["0xC6.0x33.0x64.0x07", ["198.51.100.7"]],
            ["0xC6336407", ["198.51.100.7"]],
        ])("%s", (text, hosts) => {
            expect(found(text)).toEqual(hosts);
        });
    });

    describe("4. IP literals, host:port, [ipv6]:port, IPv4-mapped IPv6", () => {
        it.each([
            ["192.0.2.10", ["192.0.2.10"]],
            ["192.0.2.10.", ["192.0.2.10"]],
            ["203.0.113.5:8080", ["203.0.113.5 8080"]],
            ["10.0.0.5:5432", ["10.0.0.5 5432"]],
            ["[2001:db8::1]:443", ["2001:db8::1 443"]],
            ["2001:db8::1", ["2001:db8::1"]],
            ["2001:DB8:0:0:0:0:0:1", ["2001:db8::1"]],
            ["2001:0db8:0000:0000:0000:0000:0000:0001", ["2001:db8::1"]],
            ["::ffff:8.8.8.8", ["8.8.8.8"]],
            ["::ffff:198.51.100.7", ["198.51.100.7"]],
            ["::ffff:c633:6407", ["198.51.100.7"]],
            ["[::ffff:198.51.100.7]:443", ["198.51.100.7 443"]],
            ["http://[::ffff:198.51.100.7]/", ["198.51.100.7"]],
            ["64:ff9b::198.51.100.7", ["64:ff9b::c633:6407"]],
            ["fe80::1%eth0", ["fe80::1"]],
            ["fd00::10", ["fd00::10"]],
            ["::1", ["::1"]],
            ["[::1]:6379", ["::1 6379"]],
            ["db.example.com:5432", ["db.example.com 5432"]],
            ["db.example.corp:5432", ["db.example.corp 5432"]],
            ["redis:6379", ["redis 6379"]],
            ["localhost:8080", ["localhost 8080"]],
        ])("%s", (text, hosts) => {
            expect(found(text)).toEqual(hosts);
        });
    });

    describe("5. trailing dots, userinfo tricks, e-mail addresses", () => {
        it.each([
            ["s3.amazonaws.com.", ["s3.amazonaws.com"]],
            ["https://s3.amazonaws.com./bucket", ["s3.amazonaws.com"]],
            ["https://s3.eu-central-1.amazonaws.com../x", ["s3.eu-central-1.amazonaws.com"]],
            ["gateway.openfaas.svc.", ["gateway.openfaas.svc"]],
            ["https://allowed.no@evil.example.com/", ["evil.example.com"]],
            ["https://allowed.no:pw@evil.example.com", ["evil.example.com"]],
            ["https://user:p@ss@evil.example.com/", ["evil.example.com"]],
            ["https://evil.example.com:443@allowed.no/", ["allowed.no"]],
            // WHATWG reads `\` as `/`, RFC 3986 parsers take the host after the last `@`: both count.
            ["https://evil.example.com\\@allowed.no/", ["evil.example.com", "allowed.no"]],
            ["https://allowed.no\\@evil.example.com/", ["allowed.no", "evil.example.com"]],
            ["https://evil.example.com\\\\@allowed.no", ["evil.example.com", "allowed.no"]],
            ["https://a\\b.evil.example.com/", ["a", "b.evil.example.com"]],
            // What WHATWG rejects, other clients may accept.
            ["http://evil.example.com:80:80/", ["evil.example.com 80"]],
            ["https://[evil.example.com]/", ["evil.example.com"]],
            ["//cdn.example.com/lib.js", ["cdn.example.com"]],
            // WHATWG removes tabs and newlines inside a URL; what follows the break is read again as a word.
            ["https://evil\t.example.com/", ["evil", "evil.example.com", "example.com"]],
            ["https://evil.\ncom/", ["evil", "evil.com"]],
            ["\\\\fileserver.example.com\\share", ["fileserver.example.com"]],
            ["ops@gmail.com", ["gmail.com"]],
            ["mailto:ops@example.com", ["example.com"]],
            ["alerts+prod@example.de", ["example.de"]],
            ["First.Last@Example.COM", ["example.com"]],
            ["user@db.example.com:5432", ["db.example.com 5432"]],
            ["u:p/w@db.example.com:5432", ["db.example.com 5432"]],
            ["ops@evil.example.com/x@y", ["evil.example.com"]],
            ["ops.team@mail.example.no", ["mail.example.no"]],
            ["ftp://user:pass@ftp.example.com:21/", ["ftp.example.com 21"]],
        ])("%j", (text, hosts) => {
            expect(found(text)).toEqual(hosts);
        });
    });

    describe("6. several endpoints in one value: lists, key=value, DSNs, JSON, YAML, lines", () => {
        it.each([
            ["a.example.com,b.example.com", ["a.example.com", "b.example.com"]],
            ["a.example.com;b.example.com", ["a.example.com", "b.example.com"]],
            ["a.example.com | b.example.com", ["a.example.com", "b.example.com"]],
            ["a.example.com b.example.com\tc.example.com", ["a.example.com", "b.example.com", "c.example.com"]],
            ["a.example.com, a.example.com", ["a.example.com"]],
            ["db.example.com:5432,db.example.com:5433", ["db.example.com 5432", "db.example.com 5433"]],
            ["host=db.example.com port=5432 sslmode=require", ["db.example.com"]],
            ["Server=tcp:evil.database.windows.net,1433;Database=x;", ["evil.database.windows.net"]],
            ["Data Source=sql.example.com,1433;Initial Catalog=x", ["sql.example.com"]],
            ["user:pass@tcp(db.example.com:3306)/db", ["db.example.com 3306"]],
            ["user:pass@unix(/var/run/mysqld/mysqld.sock)/db", []],
            ["jdbc:oracle:thin:@//db.example.corp:1521/svc", ["db.example.corp 1521"]],
            ['{"url":"https://a.example.com","replica":"b.example.com:5432"}', ["a.example.com", "b.example.com 5432"]],
            ["endpoint: https://a.example.com\nbackup:\n  host: b.example.com\n  port: 5432\n", ["a.example.com", "b.example.com"]],
            ["https://a.example.com\nhttps://b.example.com", ["a.example.com", "b.example.com"]],
            ["https://a.example.com,https://b.example.com", ["a.example.com", "b.example.com"]],
            ["http://a.example.com https://b.example.com", ["a.example.com", "b.example.com"]],
            ["BROKERS=k1.example.com:9092,k2.example.com:9092", ["k1.example.com 9092", "k2.example.com 9092"]],
            ["postgres://a.example.com/x?host=b.example.com", ["a.example.com", "b.example.com"]],
            ["https://proxy.example.no/?target=https://evil.example.com/", ["proxy.example.no", "evil.example.com"]],
            ["[a.example.com, b.example.com]", ["a.example.com", "b.example.com"]],
            ['dsn="postgres://db.example.com/x"', ["db.example.com"]],
            ["S3_URL=https://minio.example.no\nS3_BUCKET=profiles", ["minio.example.no"]],
            ["NO_PROXY=*.example.no,.svc", ["example.no"]],
            ["(https://a.example.com)", ["a.example.com"]],
            ["<https://a.example.com>", ["a.example.com"]],
            ["https://a.example.com/x, then b.example.com.", ["a.example.com", "b.example.com"]],
        ])("%j", (text, hosts) => {
            expect(found(text)).toEqual(hosts);
        });
    });

    describe("7. bare words: a listed public suffix, or a non-public one", () => {
        it.each([
            ["example.com", ["example.com"]],
            ["api.example.no", ["api.example.no"]],
            ["s3.eu-central-1.amazonaws.com", ["s3.eu-central-1.amazonaws.com"]],
            ["s3.amazonaws.com", ["s3.amazonaws.com"]],
            ["bucket.s3.amazonaws.com", ["bucket.s3.amazonaws.com"]],
            ["storage.googleapis.com", ["storage.googleapis.com"]],
            ["account.blob.core.windows.net", ["account.blob.core.windows.net"]],
            ["example.co.uk", ["example.co.uk"]],
            ["project.github.io", ["project.github.io"]],
            ["mail.example.de", ["mail.example.de"]],
            ["cdn.example.net", ["cdn.example.net"]],
            ["a-b_c.example.org", ["a-b_c.example.org"]],
            ["example.com/path/to", ["example.com"]],
            ["*.amazonaws.com", ["amazonaws.com"]],
            ["db.internal", ["db.internal"]],
            ["nas.local", ["nas.local"]],
            ["router.home.arpa", ["router.home.arpa"]],
            ["app.localhost", ["app.localhost"]],
            ["gateway.openfaas.svc", ["gateway.openfaas.svc"]],
            ["db.prod.svc.cluster.local", ["db.prod.svc.cluster.local"]],
        ])("%s", (text, hosts) => {
            expect(found(text)).toEqual(hosts);
        });
    });

    describe("not hosts", () => {
        it.each([
            "orders.created",
            "payments.refund",
            "faas-request",
            "nats.openfaas",
            "a.b.c.unknowntld",
            "x.example",
            "foo.test",
            "1.2.3",
            "v1.0",
            "v1.33.5+k3s1",
            "1.2.3-rc.1+build.5",
            "10.0.19041.1",
            "128Mi",
            "1.5Gi",
            "500m",
            "30s",
            "1h30m",
            "/data/x",
            "/var/lib/rancher/k3s/server/db/state.db",
            "./run.sh",
            "~/.kube/config",
            "*/5 * * * *",
            "0 3 * * 1-5",
            "aGVsbG8gd29ybGQ=",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            "550e8400-e29b-41d4-a716-446655440000",
            "12:30",
            "10:30:00",
            "2024-01-01T12:30:00Z",
            "ratio 1:2",
            "00:1a:2b:3c:4d:5e",
            "std::string",
            "3232235777",
            "0xff",
            "true",
            "http:80",
            "http:80,https:443",
            "file:///etc/hosts",
            "user@unix(/tmp/mysql.sock)/db",
            "",
            "   \n\t",
        ])("%j", (text) => {
            expect(endpointsIn(text)).toEqual([]);
        });
    });

    describe("known false positives: words whose last label is a top-level domain (fail closed)", () => {
        it.each([
            ["main.py", ["main.py"]],
            ["user.name", ["user.name"]],
            [".Values.global.name", ["values.global.name"]],
            ["topologyKey: kubernetes.io/hostname", ["kubernetes.io"]],
            ["1.2.3.4", ["1.2.3.4"]],
        ])("%j", (text, hosts) => {
            expect(found(text)).toEqual(hosts);
        });
    });

    describe("what an endpoint records", () => {
        it.each<[string, Endpoint[]]>([
            ["postgres://u:p@DB.Example.com:5432/d", [{ raw: "postgres://u:p@DB.Example.com:5432/d", host: "db.example.com", kind: "name", port: 5432, scheme: "postgres" }]],
            ["s3://profiles/2026/x.json", [{ raw: "s3://profiles/2026/x.json", host: "s3.amazonaws.com", kind: "name", scheme: "s3" }]],
            ["jdbc:postgresql://db.example.com/app", [{ raw: "postgresql://db.example.com/app", host: "db.example.com", kind: "name", scheme: "postgresql" }]],
            ["  198.51.100.7:443  ", [{ raw: "198.51.100.7:443", host: "198.51.100.7", kind: "ip", port: 443 }]],
            ["to: ops@gmail.com", [{ raw: "ops@gmail.com", host: "gmail.com", kind: "name" }]],
            ["[2001:db8::1]:443", [{ raw: "[2001:db8::1]:443", host: "2001:db8::1", kind: "ip", port: 443 }]],
        ])("%j", (text, endpoints) => {
            expect(endpointsIn(text)).toEqual(endpoints);
        });

        it("keeps the order of appearance across URLs and bare words", () => {
            expect(found("first.example.com then https://second.example.com and third.example.com:1")).toEqual(["first.example.com", "second.example.com", "third.example.com 1"]);
        });
    });

    describe("never throws, bounded work", () => {
        const M = 1 << 20;
        it.each([
            ["NUL bytes", "\0".repeat(1000)],
            ["a lone surrogate", "\ud800.com \udc00"],
            ["binary", Array.from({ length: 4096 }, (_, i) => String.fromCharCode(i % 256)).join("")],
            ["1 MB of dots", "a.".repeat(M / 2)],
            ["1 MB of colons", ":".repeat(M)],
            ["1 MB of schemes", "a://".repeat(M / 4)],
            ["1 MB of at signs", "@".repeat(M)],
            ["1 MB of brackets", "[".repeat(M / 2) + "]".repeat(M / 2)],
            ["1 MB of percent dots", "%2e".repeat(M / 3)],
            ["1 MB of host lists", "http://" + "a,".repeat(M / 2)],
            ["1 MB of IPv6 pieces", "1:".repeat(M / 2)],
            ["1 MB of schemes without slashes on lines", "http:a\n".repeat(M / 7)],
            ["1 MB of tabs in a URL", "https://a" + "\t".repeat(M)],
        ])("%s", (_, text) => {
            expect(Array.isArray(endpointsIn(text))).toBe(true);
        });

        it("finds a host after a megabyte of junk, and behind a long userinfo", () => {
            expect(found(`${"x.".repeat(M / 2)} evil.example.com`)).toEqual(["evil.example.com"]);
            expect(found(`https://${"u".repeat(M)}@evil.example.com/`)).toEqual(["evil.example.com"]);
            expect(found(`https://u:${"p".repeat(M)}@evil.example.com\\@allowed.no/`)).toEqual(["evil.example.com", "allowed.no"]);
        });

        it(`ignores host candidates longer than ${MAX_HOST_CHARS} characters`, () => {
            expect(endpointsIn(`${"a".repeat(MAX_HOST_CHARS)}.com`)).toEqual([]);
            expect(found(`${"a".repeat(60)}.com`)).toEqual([`${"a".repeat(60)}.com`]);
        });

        it(`returns at most ${MAX_ENDPOINTS} endpoints`, () => {
            const text = Array.from({ length: MAX_ENDPOINTS + 10 }, (_, i) => `h${i}.example.no`).join(" ");
            const all = endpointsIn(text);
            expect(all).toHaveLength(MAX_ENDPOINTS);
            expect(all[MAX_ENDPOINTS - 1].host).toBe(`h${MAX_ENDPOINTS - 1}.example.no`);
        });
    });
});

describe("endpointOf: one host value, whatever its suffix", () => {
    it.each([
        ["nats.openfaas", { raw: "nats.openfaas", host: "nats.openfaas", kind: "name" }],
        ["nats.example.de:4222", { raw: "nats.example.de:4222", host: "nats.example.de", kind: "name", port: 4222 }],
        ["db.example.corp", { raw: "db.example.corp", host: "db.example.corp", kind: "name" }],
        ["  Gateway.OpenFaaS.  ", { raw: "Gateway.OpenFaaS.", host: "gateway.openfaas", kind: "name" }],
        ["2001:db8::1", { raw: "2001:db8::1", host: "2001:db8::1", kind: "ip" }],
        ["3232235777", { raw: "3232235777", host: "192.168.1.1", kind: "ip" }],
        ["user@mq.example.no", { raw: "user@mq.example.no", host: "mq.example.no", kind: "name" }],
        ["nats://nats.openfaas:4222", { raw: "nats://nats.openfaas:4222", host: "nats.openfaas", kind: "name", port: 4222, scheme: "nats" }],
    ])("%j", (text, endpoint) => {
        expect(endpointOf(text)).toEqual(endpoint);
    });

    it.each(["", "   ", "not a host", "a/b c", "db.example.com/x", "a.example.com,b.example.com", "http://"])("%j names no endpoint", (text) => {
        expect(endpointOf(text)).toBeUndefined();
    });
});

describe("judgeEndpoint", () => {
    describe("in-cluster names", () => {
        it.each([
            "redis",
            "localhost",
            "svc",
            "gateway.openfaas",
            "gateway.openfaas.",
            "GATEWAY.OPENFAAS",
            "gateway\u3002openfaas",
            "gateway\uff0eopenfaas\uff0e",
            "nats.openfaas-fn",
            "coredns.kube-system",
            "gateway.openfaas.svc",
            "gateway.openfaas.svc.cluster.local",
            "gateway.openfaas.svc.cluster.local.",
            "db.prod.svc.cluster.local",
            "x.cluster.local",
            "nats://nats.openfaas:4222",
        ])("%j", (text) => {
            expect(why(text)).toBe("in-cluster");
        });

        it.each(["nats.unknown-namespace", "a.b.openfaas", "x.local", "app.localhost", "db.internal", "router.home.arpa", "openfaas.gateway"])("%j is not in-cluster", (text) => {
            expect(why(text)).toBe("outside-allowed-domains");
        });

        it("reads the namespaces from the settings, case-insensitively", () => {
            const config = resolveConfig({ clusterNamespaces: ["Data"] });
            expect(why("db.data", config)).toBe("in-cluster");
            expect(why("gateway.openfaas", config)).toBe("outside-allowed-domains");
        });
    });

    describe("private addresses of every kind", () => {
        it.each([
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.1.1",
            "127.0.0.1",
            "127.8.8.8",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "::1",
            "::",
            "fe80::1",
            "fe80::1%eth0",
            "fc00::1",
            "fd12:3456::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "[::1]:6379",
            "http://0x7f000001/",
            "http://3232235777/",
            "http://[::ffff:c0a8:101]/",
        ])("%j", (text) => {
            expect(why(text)).toBe("private-address");
        });
    });

    describe("public addresses", () => {
        it.each([
            "192.0.2.10",
            "198.51.100.7",
            "203.0.113.5:443",
            "2001:db8::1",
            "::ffff:198.51.100.7",
            "64:ff9b::c633:6407",
            "172.32.0.1",
            "172.15.255.255",
            "100.128.0.1",
            "192.169.0.1",
            "169.255.0.1",
            "11.0.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "fec0::1",
            "http://0xCB00710A/",
        ])("%j", (text) => {
            expect(why(text)).toBe("public-address");
        });
    });

    describe("foreign storage, with tricks", () => {
        it.each([
            "s3.amazonaws.com",
            "amazonaws.com",
            "s3.amazonaws.com.",
            "S3.AMAZONAWS.COM",
            "s3%2eamazonaws%2ecom",
            "s3\u3002amazonaws\u3002com",
            "\uff53\uff13\uff0e\uff41\uff4d\uff41\uff5a\uff4f\uff4e\uff41\uff57\uff53\uff0e\uff43\uff4f\uff4d",
            "https://bucket.s3.eu-central-1.amazonaws.com./x",
            "https://allowed.no@s3.amazonaws.com/",
            "s3://bucket",
            "gs://bucket",
            "storage.googleapis.com",
            "account.blob.core.windows.net",
            "x.r2.cloudflarestorage.com",
            "s3.cn-north-1.amazonaws.com.cn",
            "fra1.digitaloceanspaces.com",
            "s3.eu-central-1.wasabisys.com:443",
        ])("%j", (text) => {
            expect(why(text)).toBe("foreign-storage");
        });

        it("is foreign even under an allowed domain, and patterns may be written as suffixes", () => {
            expect(why("bucket.s3.amazonaws.com", resolveConfig({ allowedEgressDomains: [".com"] }))).toBe("foreign-storage");
            const config = resolveConfig({ foreignStoragePatterns: ["*.Example-Cloud.com", ".store.example.", "b\u00fccher.example"] });
            expect(why("x.example-cloud.com", config)).toBe("foreign-storage");
            expect(why("a.store.example", config)).toBe("foreign-storage");
            expect(why("xn--bcher-kva.example", config)).toBe("foreign-storage");
            expect(why("example-cloud.com.example.no", config)).toBe("allowed-domain");
        });
    });

    describe("lookalikes that are not foreign storage", () => {
        it.each([
            ["amazonaws.com.evil.no", "allowed-domain"],
            ["s3.amazonaws.com.example.no", "allowed-domain"],
            ["amazonaws.com-evil.no", "allowed-domain"],
            ["amazonawscom.no", "allowed-domain"],
            ["notamazonaws.com", "outside-allowed-domains"],
            ["evil-amazonaws.com", "outside-allowed-domains"],
            ["amazonaws.co", "outside-allowed-domains"],
            ["s3-amazonaws.example.com", "outside-allowed-domains"],
            ["googleapis.com.example.de", "outside-allowed-domains"],
        ])("%j: %s", (text, verdict) => {
            expect(why(text)).toBe(verdict);
        });
    });

    describe("allowed domains and outside them", () => {
        it.each([
            ["example.no", "allowed-domain"],
            ["api.example.no", "allowed-domain"],
            ["EXAMPLE.NO.", "allowed-domain"],
            ["example\u3002no", "allowed-domain"],
            ["b\u00fccher.no", "allowed-domain"],
            ["https://minio.example.no/bucket", "allowed-domain"],
            ["example.com", "outside-allowed-domains"],
            ["nats.example.de", "outside-allowed-domains"],
            ["no.example.com", "outside-allowed-domains"],
            ["example.no.evil.com", "outside-allowed-domains"],
            ["example.nom.za", "outside-allowed-domains"],
            ["exampleno", "in-cluster"],
        ])("%j: %s", (text, verdict) => {
            expect(why(text)).toBe(verdict);
        });
    });

    it("says what is wrong, naming the host and the rule", () => {
        const judge = (text: string) => judgeEndpoint(endpointOf(text) as Endpoint, DEFAULT_CONFIG);
        expect(judge("https://s3.eu-central-1.amazonaws.com/x")).toEqual({ ok: false, why: "foreign-storage", detail: "s3.eu-central-1.amazonaws.com is foreign storage (amazonaws.com)" });
        expect(judge("hooks.example.com")).toEqual({ ok: false, why: "outside-allowed-domains", detail: "hooks.example.com is outside the allowed domains (.no)" });
        expect(judge("http://0xCB00710A/")).toEqual({ ok: false, why: "public-address", detail: "203.0.113.10 is a special-purpose (reserved) address, not a private one, outside the allowed domains (.no)" });
        expect(judge("objects.example.no")).toEqual({ ok: true, why: "allowed-domain" });
    });
});

describe("isInClusterName", () => {
    it.each([
        ["gateway.openfaas.", true],
        ["gateway\u3002openfaas", true],
        ["db.prod.svc.cluster.local", true],
        ["10.0.0.1", false],
        ["gateway.example.no", false],
        ["", false],
    ])("%j: %s", (host, inCluster) => {
        expect(isInClusterName(host, DEFAULT_CONFIG)).toBe(inCluster);
    });
});

describe("the data-rules wrappers", () => {
    it("hostsIn gives each host once, whatever its ports", () => {
        expect(hostsIn("db.example.com:5432 db.example.com:5433 s3://b gs://c")).toEqual(["db.example.com", "s3.amazonaws.com", "storage.googleapis.com"]);
    });

    it("endpointProblem judges one host value and keeps today's messages", () => {
        expect(endpointProblem("s3.amazonaws.com.", DEFAULT_CONFIG)).toBe("s3.amazonaws.com is foreign storage (amazonaws.com)");
        expect(endpointProblem("nats.example.de:4222", DEFAULT_CONFIG)).toBe("nats.example.de is outside the allowed domains (.no)");
        expect(endpointProblem("[2001:db8::1]:443", DEFAULT_CONFIG)).toBe("2001:db8::1 is a special-purpose (reserved) address, not a private one, outside the allowed domains (.no)");
        expect(endpointProblem("nats.openfaas", DEFAULT_CONFIG)).toBeUndefined();
        expect(endpointProblem("10.43.0.10", DEFAULT_CONFIG)).toBeUndefined();
        expect(endpointProblem("nats openfaas", DEFAULT_CONFIG)).toBe('"nats openfaas" is not a host name or address, so where it points cannot be checked');
    });

    it("isInCluster decides on the normalised host", () => {
        expect(isInCluster("gateway.openfaas.", DEFAULT_CONFIG)).toBe(true);
        expect(isInCluster("gateway.example.no", DEFAULT_CONFIG)).toBe(false);
    });
});
