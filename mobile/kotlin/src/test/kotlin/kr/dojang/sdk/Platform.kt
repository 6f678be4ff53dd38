package kr.dojang.sdk

import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import org.json.JSONObject

/** A real `dojang up` on a temporary data directory and a free port, stopped by [close]. */
class Platform : AutoCloseable {
    val dir: File = Files.createTempDirectory("dojang-sdk-test").toFile()
    private val data = File(dir, "data")
    private val binary = System.getProperty("dojang.bin") ?: "../../target/debug/dojang"
    private val process: Process
    val base: String
    private val token: String
    private val http = HttpClient.newHttpClient()

    init {
        check(File(binary).canExecute()) { "no dojang binary at $binary: run `cargo build -p dojang` first" }
        process = ProcessBuilder(binary, "up", "--data-dir", data.path, "--listen", "127.0.0.1:0")
            .redirectError(File(dir, "up.log"))
            .start()
        val out = process.inputStream.bufferedReader()
        val first = out.readLine() ?: error("dojang up printed nothing: see ${dir}/up.log")
        base = first.substringAfter("listening on ").trim()
        // Keep reading so the server never blocks on a full pipe.
        Thread { out.lineSequence().forEach { } }.apply { isDaemon = true }.start()
        token = File(data, "demo-token").readText().trim()
    }

    /** An offer of `type`'s example claims from its office: `uri`, `tx_code`, `offer_id`, `issuer`. */
    fun offer(type: String): JSONObject =
        postJson("/console/api/offers", JSONObject().put("type", type), bearer = true)

    /** The registry's trust bundle (or the delta since `since`), of `types` only if given. */
    fun bundle(since: Long? = null, types: String? = null): ByteArray {
        val query = listOfNotNull(since?.let { "since=$it" }, types?.let { "types=$it" })
        return getBytes("/registry/bundle" + if (query.isEmpty()) "" else "?" + query.joinToString("&"))
    }

    /** The registry's trust anchor, as a counter pins it. */
    fun anchor(): ByteArray = getBytes("/registry/trust-anchor")

    /** The verifier page's OpenID4VP request for `claims` of `type`: `state`, `uri`. */
    fun openid4vpRequest(type: String, claims: List<String>): JSONObject =
        postJson("/verifier/api/oid4vp/requests", JSONObject().put("type", type).put("claims", claims))

    /** Where that request stands: `status`, `verdicts`. */
    fun openid4vpResult(state: String): JSONObject =
        JSONObject(String(getBytes("/verifier/api/oid4vp/requests/$state")))

    /** Runs the `dojang` CLI, as a clerk would, against this platform's data and registry. */
    fun cli(vararg args: String): String {
        val command = listOf(binary) + args.toList() +
            listOf("--data-dir", data.path, "--registry", "$base/registry")
        val run = ProcessBuilder(command).redirectErrorStream(true).start()
        val output = run.inputStream.bufferedReader().readText()
        check(run.waitFor(60, TimeUnit.SECONDS) && run.exitValue() == 0) { "dojang ${args.joinToString(" ")}: $output" }
        return output
    }

    private fun getBytes(path: String): ByteArray {
        val response = http.send(
            HttpRequest.newBuilder(URI.create(base + path)).GET().build(),
            HttpResponse.BodyHandlers.ofByteArray(),
        )
        check(response.statusCode() == 200) { "GET $path: ${response.statusCode()} ${String(response.body())}" }
        return response.body()
    }

    private fun postJson(path: String, body: JSONObject, bearer: Boolean = false): JSONObject {
        val request = HttpRequest.newBuilder(URI.create(base + path))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
        if (bearer) request.header("authorization", "Bearer $token")
        val response = http.send(request.build(), HttpResponse.BodyHandlers.ofString())
        check(response.statusCode() == 200) { "POST $path: ${response.statusCode()} ${response.body()}" }
        return JSONObject(response.body())
    }

    override fun close() {
        process.destroy()
        process.waitFor(10, TimeUnit.SECONDS)
        dir.deleteRecursively()
    }
}
