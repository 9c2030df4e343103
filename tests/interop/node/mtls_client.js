// A @grpc/grpc-js client that calls the gatekeeper over mutual TLS and prints one JSON line per case, with the
// same case names as tests/interop/python/mtls_client.py ("trusted", "no_cert", "done"). It asserts nothing.
//
// usage: node mtls_client.js --target 127.0.0.1:PORT --protos DIR --ca CA.pem --cert C.pem --key C.key
'use strict';

const fs = require('fs');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

function arg(name) {
    const i = process.argv.indexOf(name);
    if (i < 0 || i + 1 >= process.argv.length) {
        throw new Error(`missing ${name}`);
    }
    return process.argv[i + 1];
}

function emit(kase, fields) {
    process.stdout.write(JSON.stringify({ case: kase, ...fields }) + '\n');
}

const codeName = (code) => Object.keys(grpc.status).find((k) => grpc.status[k] === code) ?? String(code);

function decide(client, request) {
    return new Promise((resolve) => {
        client.Decide(request, { deadline: Date.now() + 15000 }, (error, response) => resolve({ error, response }));
    });
}

async function main() {
    const target = arg('--target');
    const options = { keepCase: true, longs: String, enums: String, defaults: true, includeDirs: [arg('--protos')] };
    const loaded = grpc.loadPackageDefinition(loader.loadSync(['gatekeeper/v1/gatekeeper.proto'], options));
    const root = fs.readFileSync(arg('--ca'));
    const key = fs.readFileSync(arg('--key'));
    const chain = fs.readFileSync(arg('--cert'));
    const request = {
        category: 'cpis_flag', recipient: 'nhs_cpis', purpose: 'cpis_alert', request_id: 'grpc-js-mtls',
        context: { subject_statuses: ['looked_after'] },
    };
    // The server certificate names localhost and 127.0.0.1; the override keeps the check on the DNS name.
    const channelOptions = { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' };

    for (const [kase, credentials] of [
        ['trusted', grpc.credentials.createSsl(root, key, chain)],
        ['no_cert', grpc.credentials.createSsl(root)],
    ]) {
        const client = new loaded.gatekeeper.v1.Gatekeeper(target, credentials, channelOptions);
        try {
            const { error, response } = await decide(client, request);
            if (error) {
                emit(kase, { code: codeName(error.code), details: error.details });
            } else {
                emit(kase, { code: 'OK', decision: response.decision, decision_id: response.decision_id });
            }
        } catch (e) {
            emit(kase, { error: String(e && e.stack ? e.stack : e) });
        } finally {
            client.close();
        }
    }

    emit('done', {});
}

main().catch((e) => {
    emit('fatal', { error: String(e && e.stack ? e.stack : e) });
    process.exit(1);
});
