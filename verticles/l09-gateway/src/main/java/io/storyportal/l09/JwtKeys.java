package io.storyportal.l09;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The RS256 keys tokens are signed with. {@code auth.jwt.keys} lists PEM files (PKCS#8 private
 * keys): the first signs, the others only verify, so a rotated-out key keeps its tokens valid
 * until they expire. Without configured keys (the embedded default) one key is generated at first
 * start, with a warning, and kept in {@code <dataDir>/jwt/}. Each key's {@code kid} is its RFC 7638
 * thumbprint.
 */
final class JwtKeys {

  private static final Logger LOG = LoggerFactory.getLogger(JwtKeys.class);

  record Key(String kid, String privatePem, RSAPublicKey publicKey) {
    String publicPem() {
      return pem("PUBLIC KEY", publicKey.getEncoded());
    }

    JsonObject jwk() {
      return new JsonObject().put("kty", "RSA").put("use", "sig").put("alg", "RS256").put("kid", kid)
        .put("n", b64(publicKey.getModulus())).put("e", b64(publicKey.getPublicExponent()));
    }
  }

  private final List<Key> keys;
  private final Map<String, Key> byKid = new LinkedHashMap<>();

  private JwtKeys(List<Key> keys) {
    this.keys = keys;
    keys.forEach(k -> byKid.put(k.kid(), k));
  }

  static JwtKeys load(JsonObject jwtConf, Path dataDir) {
    try {
      Object configured = jwtConf.getValue("keys");
      JsonArray files = configured instanceof JsonArray a ? a
        : configured instanceof String str && !str.isBlank() ? new JsonArray(List.of(str.split(","))) : new JsonArray();
      List<Key> keys = new ArrayList<>();
      if (files.isEmpty()) {
        Path generated = dataDir.resolve("jwt").resolve("signing-key.pem");
        if (!Files.exists(generated)) {
          LOG.warn("no auth.jwt.keys configured: generating an RS256 signing key at {} (fine for one machine; configure "
            + "keys shared by every gateway node for production)", generated.toAbsolutePath());
          Files.createDirectories(generated.getParent());
          KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
          gen.initialize(2048);
          KeyPair pair = gen.generateKeyPair();
          Files.writeString(generated, pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
          try {
            Files.setPosixFilePermissions(generated, PosixFilePermissions.fromString("rw-------"));
          } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system
          }
        }
        keys.add(read(generated));
      } else {
        for (Object f : files) {
          keys.add(read(Path.of(((String) f).trim())));
        }
      }
      return new JwtKeys(keys);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot load the JWT keys: " + e.getMessage(), e);
    }
  }

  Key signing() {
    return keys.get(0);
  }

  List<Key> all() {
    return keys;
  }

  Key byKid(String kid) {
    return byKid.get(kid);
  }

  JsonObject jwks() {
    JsonArray out = new JsonArray();
    keys.forEach(k -> out.add(k.jwk()));
    return new JsonObject().put("keys", out);
  }

  private static Key read(Path file) throws IOException, GeneralSecurityException {
    String pem = Files.readString(file);
    String body = pem.replaceAll("-----(BEGIN|END) PRIVATE KEY-----", "").replaceAll("\\s", "");
    KeyFactory kf = KeyFactory.getInstance("RSA");
    RSAPrivateCrtKey priv = (RSAPrivateCrtKey) kf.generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body)));
    RSAPublicKey pub = (RSAPublicKey) kf.generatePublic(new RSAPublicKeySpec(priv.getModulus(), priv.getPublicExponent()));
    String thumb = "{\"e\":\"" + b64(pub.getPublicExponent()) + "\",\"kty\":\"RSA\",\"n\":\"" + b64(pub.getModulus()) + "\"}";
    String kid = Base64.getUrlEncoder().withoutPadding()
      .encodeToString(MessageDigest.getInstance("SHA-256").digest(thumb.getBytes(StandardCharsets.UTF_8)));
    return new Key(kid, pem, pub);
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
      + "\n-----END " + type + "-----\n";
  }

  private static String b64(BigInteger v) {
    byte[] bytes = v.toByteArray();
    if (bytes.length > 1 && bytes[0] == 0) {
      bytes = java.util.Arrays.copyOfRange(bytes, 1, bytes.length);
    }
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
