// `import ShuffleNet` is all an embedder writes: the engine's model, weights and configuration types and the image
// module's decoding options, images and errors appear in this module's signatures, so they come with it. The two
// modules are not products of their own: one product keeps one documented surface and one version.
@_exported import ShuffleNetEngine
@_exported import ShuffleNetImage
