import ConvKit
import Testing

/// Parameter and MAC counts, on the seeds' worked examples (the research notes checked each
/// against PyTorch, including the ones the texts get wrong).
@Suite("Geometry: cost")
struct GeometryCostTests {
    @Test("seed E001/E008: Conv2d(3, 16, 3) has 432 weights + 16 biases = 448")
    func seed_rgb_conv_448() {
        #expect(Cost.convolutionParameters(inChannels: 3, outChannels: 16, kernelSize: [3, 3]) == 448)
        #expect(Cost.convolutionParameters(inChannels: 3, outChannels: 16, kernelSize: [3, 3], bias: false) == 432)
        // MACs at N=8, 32×32 'same' output.
        #expect(Cost.convolutionMACs(batch: 8, inChannels: 3, outChannels: 16, outputSize: [32, 32], kernelSize: [3, 3]) == 3_538_944)
    }

    @Test("seed E014: Code Fragment 2 has 6144 parameters, not the 6432 the text states")
    func seed_frag2_params_6144_not_6432() {
        let layers = [
            Cost.convolutionParameters(inChannels: 3, outChannels: 16, kernelSize: [3, 3]),
            Cost.convolutionParameters(inChannels: 16, outChannels: 32, kernelSize: [3, 3]),
            Cost.convolutionParameters(inChannels: 32, outChannels: 32, kernelSize: [1, 1]),
        ]
        #expect(layers == [448, 4640, 1056])
        #expect(layers.reduce(0, +) == 6144)
        #expect(layers.reduce(0, +) != 6432)
        let macs = [
            Cost.convolutionMACs(batch: 4, inChannels: 3, outChannels: 16, outputSize: [64, 64], kernelSize: [3, 3]),
            Cost.convolutionMACs(batch: 4, inChannels: 16, outChannels: 32, outputSize: [32, 32], kernelSize: [3, 3]),
            Cost.convolutionMACs(batch: 4, inChannels: 32, outChannels: 32, outputSize: [32, 32], kernelSize: [1, 1]),
        ]
        #expect(macs == [7_077_888, 18_874_368, 4_194_304] && macs.reduce(0, +) == 30_146_560)
    }

    @Test("seed E012: depthwise-separable 64→64 is 7.89× cheaper per pixel (not 8–9×)")
    func seed_doorbell_dws_ratio_7_89() {
        let standard = Cost.convolutionMACs(batch: 1, inChannels: 64, outChannels: 64, outputSize: [1], kernelSize: [3, 3])
        let depthwise = Cost.convolutionMACs(batch: 1, inChannels: 64, outChannels: 64, outputSize: [1], kernelSize: [3, 3], groups: 64)
        let pointwise = Cost.convolutionMACs(batch: 1, inChannels: 64, outChannels: 64, outputSize: [1], kernelSize: [1, 1])
        #expect(standard == 36_864 && depthwise + pointwise == 4_672)
        #expect(abs(Double(standard) / Double(depthwise + pointwise) - 7.89) < 0.005)
    }

    @Test("seed E018: Conv 32→64 3×3 vs depthwise + pointwise at 64×64")
    func seed_std_vs_dws_32to64() {
        let standard = Cost.convolutionParameters(inChannels: 32, outChannels: 64, kernelSize: [3, 3])
        let separable = Cost.convolutionParameters(inChannels: 32, outChannels: 32, kernelSize: [3, 3], groups: 32)
            + Cost.convolutionParameters(inChannels: 32, outChannels: 64, kernelSize: [1, 1])
        #expect(standard == 18_496 && separable == 2_432)
        let standardMACs = Cost.convolutionMACs(batch: 1, inChannels: 32, outChannels: 64, outputSize: [64, 64], kernelSize: [3, 3])
        let separableMACs = Cost.convolutionMACs(batch: 1, inChannels: 32, outChannels: 32, outputSize: [64, 64], kernelSize: [3, 3], groups: 32)
            + Cost.convolutionMACs(batch: 1, inChannels: 32, outChannels: 64, outputSize: [64, 64], kernelSize: [1, 1])
        #expect(standardMACs == 75_497_472 && separableMACs == 9_568_256)
    }

    @Test("seed E086b: three 3×3 cost 27/49 ≈ 55% of a 7×7, not a third; two 3×3 vs 5×5 is 18 vs 25")
    func seed_three3x3_vs_7x7_55_percent() {
        let three = 3 * Cost.convolutionParameters(inChannels: 64, outChannels: 64, kernelSize: [3, 3], bias: false)
        let seven = Cost.convolutionParameters(inChannels: 64, outChannels: 64, kernelSize: [7, 7], bias: false)
        #expect(three == 110_592 && seven == 200_704)
        #expect(abs(Double(three) / Double(seven) - 27.0 / 49) < 1e-12)
        #expect(2 * Cost.convolutionParameters(inChannels: 1, outChannels: 1, kernelSize: [3, 3], bias: false) == 18)
        #expect(Cost.convolutionParameters(inChannels: 1, outChannels: 1, kernelSize: [5, 5], bias: false) == 25)
    }

    @Test("seed exercises: E015/E016/E017, E027, E051, E086d, E092")
    func seedExercises() {
        #expect(Cost.convolutionParameters(inChannels: 1, outChannels: 64, kernelSize: [7, 7]) == 3_200)
        #expect(Cost.convolutionParameters(inChannels: 1, outChannels: 64, kernelSize: [3, 3]) == 640)  // dilation costs nothing
        #expect(Cost.convolutionParameters(inChannels: 1, outChannels: 64, kernelSize: [5, 5]) == 1_664)
        #expect(Cost.convolutionParameters(inChannels: 64, outChannels: 128, kernelSize: [3, 3]) == 73_856)
        #expect(Cost.convolutionParameters(inChannels: 64, outChannels: 128, kernelSize: [5, 5]) == 204_928)
        #expect(Cost.convolutionMACs(batch: 1, inChannels: 64, outChannels: 128, outputSize: [56, 56], kernelSize: [5, 5]) == 642_252_800)
        #expect(Cost.convolutionMACs(batch: 8, inChannels: 3, outChannels: 64, outputSize: [224, 224], kernelSize: [3, 3]) == 693_633_024)
        #expect(Cost.convolutionParameters(inChannels: 3, outChannels: 32, kernelSize: [5, 5]) == 2_432)
        #expect(Cost.convolutionMACs(batch: 1, inChannels: 3, outChannels: 32, outputSize: [64, 64], kernelSize: [5, 5]) == 9_830_400)
    }

    @Test("linear, batch norm and transposed convolution")
    func otherLayers() {
        // Seed E057 / E064: fully connected layers on images.
        #expect(Cost.linearParameters(inFeatures: 150_528, outFeatures: 1_000) == 150_529_000)
        #expect(Cost.linearParameters(inFeatures: 1_024, outFeatures: 512, bias: false) == 524_288)
        #expect(Cost.linearMACs(rows: 1, inFeatures: 1_600, outFeatures: 10) == 16_000)
        #expect(Cost.linearMACs(rows: 6, inFeatures: 4, outFeatures: 3) == 72)
        #expect(Cost.batchNormParameters(numFeatures: 64) == 128)
        #expect(Cost.batchNormParameters(numFeatures: 64, affine: false) == 0)
        // ConvTranspose2d(16, 8, 4, stride 2, groups 2) on 7×7: weights [16, 4, 4, 4].
        #expect(Cost.transposedConvolutionParameters(inChannels: 16, outChannels: 8, kernelSize: [4, 4], groups: 2) == 16 * 4 * 16 + 8)
        #expect(Cost.transposedConvolutionMACs(batch: 2, inChannels: 16, outChannels: 8, inputSize: [7, 7], kernelSize: [4, 4], groups: 2)
                == 2 * 16 * 49 * 4 * 16)
    }

    @Test("backward MACs: weight gradient always, input gradient when an earlier layer trains")
    func backward() {
        #expect(Cost.backwardMACs(forward: 100, needsInputGradient: false) == 100)
        #expect(Cost.backwardMACs(forward: 100, needsInputGradient: true) == 200)
        #expect(Cost.elements([1, 64, 112, 112]) == 802_816)
    }
}
