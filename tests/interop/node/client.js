// A @grpc/grpc-js client that calls the gatekeeper and prints what it saw, one JSON line per case, with
// the same case names as tests/interop/python/client.py. It asserts nothing: the xunit test that starts
// it judges the lines.
//
// usage: node client.js --target 127.0.0.1:PORT --protos DIR
'use strict';

const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const TESTING = '/gatekeeper.testing.Testing/';

function arg(name) {
    const i = process.argv.indexOf(name);
    if (i < 0 || i + 1 >= process.argv.length) {
        throw new Error(`missing ${name}`);
    }
    return process.argv[i + 1];
}

function emit(kase, fields) {
    const line = { case: kase, ...fields };
    process.stdout.write(JSON.stringify(line) + '\n');
}

const codeName = (code) => Object.keys(grpc.status).find((k) => grpc.status[k] === code) ?? String(code);

function metadataObject(md) {
    const result = {};
    for (const [key, values] of Object.entries(md ? md.getMap() : {})) {
        result[key] = Buffer.isBuffer(values) ? values.toString('hex') : values;
    }
    return result;
}

function decideFields(r) {
    return {
        decision: r.decision,
        decision_id: r.decision_id,
        policy_version: r.policy_version,
        rule_id: r.rule_id,
        request_id: r.request_id,
        obligations: r.obligations,
    };
}

// Runs one unary call and resolves with { error, response, headers, trailers }.
function unary(start) {
    return new Promise((resolve) => {
        let headers = null;
        let trailers = null;
        let outcome = null;
        const finish = () => {
            if (outcome && trailers) {
                resolve({ ...outcome, headers, trailers });
            }
        };
        const call = start((error, response) => {
            outcome = { error, response };
            finish();
        });
        call.on('metadata', (md) => { headers = md; });
        call.on('status', (status) => { trailers = status.metadata; finish(); });
    });
}

async function main() {
    const target = arg('--target');
    const protos = arg('--protos');
    const options = { keepCase: true, longs: String, enums: String, defaults: true, includeDirs: [protos] };
    const definition = loader.loadSync(['gatekeeper/v1/gatekeeper.proto', 'grpc/health/v1/health.proto'], options);
    const loaded = grpc.loadPackageDefinition(definition);
    const creds = grpc.credentials.createInsecure();
    const stub = new loaded.gatekeeper.v1.Gatekeeper(target, creds);
    const gzipStub = new loaded.gatekeeper.v1.Gatekeeper(target, creds, { 'grpc.default_compression_algorithm': 2 });
    const health = new loaded.grpc.health.v1.Health(target, creds);
    const generic = new grpc.Client(target, creds);
    const decide = definition['gatekeeper.v1.Gatekeeper'].Decide;
    const deadline = (ms) => ({ deadline: new Date(Date.now() + ms) });
    const allowed = { category: 'health_disability', recipient: 'gp_surgery', purpose: 'social_care' };

    await new Promise((resolve, reject) => stub.waitForReady(Date.now() + 10000, (e) => (e ? reject(e) : resolve())));

    const testing = (method, request, metadata, ms) => unary((cb) => generic.makeUnaryRequest(
        TESTING + method, decide.requestSerialize, decide.responseDeserialize, request, metadata ?? new grpc.Metadata(), deadline(ms ?? 10000), cb));

    async function report(kase, run, fields) {
        try {
            const result = await run();
            if (result.error) {
                emit(kase, { code: codeName(result.error.code), details: result.error.details });
            } else {
                emit(kase, { code: 'OK', ...fields(result) });
            }
        } catch (e) {
            emit(kase, { error: String(e && e.stack ? e.stack : e) });
        }
    }

    const md = () => new grpc.Metadata();
    await report('decide', () => unary((cb) => stub.Decide({ ...allowed, request_id: 'node-1' }, md(), deadline(10000), cb)), (r) => decideFields(r.response));
    await report('decide_invalid', () => unary((cb) => stub.Decide({ category: 'Bad-Id', recipient: 'gp_surgery', purpose: 'social_care' }, md(), deadline(10000), cb)), () => ({}));
    const batch = ['health_disability', 'criminal_offence', 'health_disability'].map((category, i) => ({ category, recipient: 'gp_surgery', purpose: 'social_care', request_id: `node-b${i}` }));
    await report('batch', () => unary((cb) => stub.DecideBatch({ requests: batch }, md(), deadline(10000), cb)), (r) => ({ responses: r.response.responses.map(decideFields) }));
    await report('health_check', () => unary((cb) => health.Check({ service: '' }, md(), deadline(10000), cb)), (r) => ({ status: r.response.status }));
    await report('health_check_unknown', () => unary((cb) => health.Check({ service: 'no.such.Service' }, md(), deadline(10000), cb)), () => ({}));

    await report('health_watch', () => new Promise((resolve) => {
        const call = health.Watch({ service: 'gatekeeper.v1.Gatekeeper' }, md(), deadline(10000));
        let first = null;
        call.on('data', (r) => {
            if (!first) {
                first = r;
                call.cancel();
                resolve({ response: r });
            }
        });
        call.on('error', (error) => { if (!first) { resolve({ error }); } });
    }), (r) => ({ status: r.response.status }));

    await report('health_watch_gzip', () => new Promise((resolve) => {
        const gzipHealth = new loaded.grpc.health.v1.Health(target, creds, { 'grpc.default_compression_algorithm': 2 });
        const call = gzipHealth.Watch({ service: '' }, md(), deadline(10000));
        let first = null;
        call.on('data', (r) => {
            if (!first) {
                first = r;
                call.cancel();
                gzipHealth.close();
                resolve({ response: r });
            }
        });
        call.on('error', (error) => { if (!first) { gzipHealth.close(); resolve({ error }); } });
    }), (r) => ({ status: r.response.status }));

    // 5 MiB against the server's default 4 MiB receive limit: refused from the length prefix.
    await report('over_limit', () => unary((cb) => stub.Decide({ ...allowed, subject_ref: 's'.repeat(5 * 1024 * 1024) }, md(), deadline(10000), cb)), () => ({}));

    await report('concurrent', async () => {
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
            unary((cb) => stub.Decide({ ...allowed, request_id: `node-c${i}` }, md(), deadline(10000), cb))));
        const failed = results.find((r) => r.error);
        return failed ? { error: failed.error } : { response: results.map((r) => r.response.request_id) };
    }, (r) => ({ request_ids: r.response }));

    const raw = (p) => unary((cb) => generic.makeUnaryRequest(p, (x) => x, (x) => x, Buffer.alloc(0), md(), deadline(10000), cb));
    await report('unknown_method', () => raw('/gatekeeper.v1.Gatekeeper/NoSuchMethod'), () => ({}));
    await report('unknown_service', () => raw('/no.such.v1.Service/Call'), () => ({}));
    await report('gzip', () => unary((cb) => gzipStub.Decide({ ...allowed, request_id: 'node-gzip' }, md(), deadline(10000), cb)), (r) => decideFields(r.response));
    await report('deadline', () => testing('Wait', { request_id: 'node-wait' }, null, 1), () => ({}));

    // Many calls whose deadline passes while the server is still reading or waiting.
    try {
        const codes = {};
        for (let i = 0; i < 200; i++) {
            const r = await testing('Wait', { request_id: `node-storm${i}` }, null, 1);
            const code = r.error ? codeName(r.error.code) : 'OK';
            codes[code] = (codes[code] ?? 0) + 1;
        }
        emit('deadline_storm', { codes });
    } catch (e) {
        emit('deadline_storm', { error: String(e && e.stack ? e.stack : e) });
    }

    const sent = new grpc.Metadata();
    sent.set('x-custom', 'hello from grpc-js');
    sent.set('x-blob-bin', Buffer.from([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff]));
    await report('metadata', () => testing('Echo', { request_id: 'node-echo' }, sent), (r) => ({
        headers: metadataObject(r.headers),
        trailers: metadataObject(r.trailers),
        body: r.response.explanation,
    }));

    await report('throw', () => testing('Throw', { request_id: 'node-throw' }), () => ({}));
    await report('fail_unicode', () => testing('Fail', { request_id: 'node-fail' }), () => ({}));
    await report('after', () => unary((cb) => stub.Decide({ ...allowed, request_id: 'node-after' }, md(), deadline(10000), cb)), (r) => decideFields(r.response));

    for (const c of [stub, gzipStub, health, generic]) {
        c.close();
    }
    emit('done', {});
}

main().catch((e) => {
    emit('fatal', { error: String(e && e.stack ? e.stack : e) });
    process.exitCode = 1;
});
