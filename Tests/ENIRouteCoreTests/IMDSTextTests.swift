import ENIRouteCore
import Testing

@Suite("IMDS text bodies")
struct IMDSTextTests {
    @Test(arguments: [
        "10.0.0.5\n10.0.0.6", "10.0.0.5\n10.0.0.6\n", "10.0.0.5\r\n10.0.0.6\r\n", "10.0.0.5\r\n10.0.0.6",
        "\n10.0.0.5\n\n10.0.0.6\n\n",
        "  10.0.0.5  \n\t10.0.0.6\t\n", "10.0.0.5\n   \n10.0.0.6", "10.0.0.5\r\n\r\n10.0.0.6",
    ])
    func linesWithOrWithoutTrailingNewline(body: String) {
        #expect(IMDSText.lines(body).map(String.init) == ["10.0.0.5", "10.0.0.6"], "body \(body.debugDescription)")
    }

    @Test func emptyBodies() {
        #expect(IMDSText.lines("").isEmpty)
        #expect(IMDSText.lines("\n").isEmpty)
        #expect(IMDSText.lines("\r\n \n\t").isEmpty)
        #expect(IMDSText.listing("").isEmpty)
    }

    @Test func singleLine() {
        #expect(IMDSText.lines("0").map(String.init) == ["0"])
        #expect(IMDSText.lines("0\n").map(String.init) == ["0"])
        #expect(IMDSText.lines(Substring("x\ny").dropFirst(2)).map(String.init) == ["y"], "works on substrings")
    }

    @Test func listingStripsDirectorySlash() {
        let body = "device-number\ninterface-id\nipv4-associations/\nlocal-ipv4s\nsubnet-ipv4-cidr-block\n"
        #expect(
            IMDSText.listing(body) == [
                "device-number", "interface-id", "ipv4-associations", "local-ipv4s", "subnet-ipv4-cidr-block",
            ])
        #expect(IMDSText.listing("0e:49:61:0f:c3:11/\r\n02:5e:c3:d7:22:4b/") == ["0e:49:61:0f:c3:11", "02:5e:c3:d7:22:4b"])
        #expect(IMDSText.listing("a/\n\nb") == ["a", "b"])
    }

    @Test func trim() {
        #expect(IMDSText.trim(" \t a b \r\n") == "a b")
        #expect(IMDSText.trim("") == "")
        #expect(IMDSText.trim("   ") == "")
        #expect(IMDSText.trim("x") == "x")
    }
}
