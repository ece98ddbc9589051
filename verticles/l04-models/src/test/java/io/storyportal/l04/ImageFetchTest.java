package io.storyportal.l04;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;

/** Which addresses a host matched by a wildcard of {@code models.images.fetchHosts} may be at. */
class ImageFetchTest {

  @ParameterizedTest
  @CsvSource({
    "8.8.8.8, true", "1.1.1.1, true", "172.32.0.1, true", "100.128.0.1, true", "2606:4700::1111, true",
    "64:ff9b::808:808, true", "2002:808:808::1, true",
    "0.0.0.0, false", "0.1.2.3, false", "10.1.2.3, false", "127.0.0.1, false", "127.8.8.8, false",
    "169.254.169.254, false", "172.16.0.1, false", "172.31.255.255, false", "192.168.1.1, false",
    "100.64.0.1, false", "100.127.255.255, false", "192.0.0.8, false", "198.18.0.1, false", "198.19.255.1, false",
    "224.0.0.1, false", "240.0.0.1, false", "255.255.255.255, false",
    "::, false", "::1, false", "fe80::1, false", "fc00::1, false", "fd12:3456::1, false", "ff02::1, false",
    "::ffff:10.0.0.1, false", "::ffff:169.254.169.254, false", "::10.0.0.1, false", "::ffff:8.8.8.8, true",
    "64:ff9b::a00:1, false", "64:ff9b::7f00:1, false", "2002:a00:1::1, false", "2002:a9fe:a9fe::1, false"
  })
  void publicAddresses(String address, boolean expected) throws Exception {
    // literals: no name lookup
    assertThat(ImageFetch.isPublic(InetAddress.getByName(address))).as(address).isEqualTo(expected);
  }
}
